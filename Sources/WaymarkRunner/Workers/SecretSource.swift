#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The dispatch tokens (see `WorkerPool`), drawn from the kernel's random source 4 KiB at a
/// time: `UInt64.random` made one `getrandom` system call per action, about 1% of the runner's
/// CPU. Tokens stay unpredictable to action code (the same kernel source, only buffered).
/// Not thread-safe: its owner guards it (the pool actor; `InstanceID` behind a lock).
struct SecretSource {
    private var buffer: [UInt64] = []

    /// A token in 1...2^62.
    mutating func next() -> UInt64 {
        raw() % (1 << 62) + 1
    }

    /// 64 random bits.
    mutating func raw() -> UInt64 {
        if buffer.isEmpty { refill() }
        return buffer.removeLast()
    }

    private mutating func refill() {
        var values = [UInt64](repeating: 0, count: 512)
        let filled = values.withUnsafeMutableBytes { bytes -> Bool in
            guard let base = bytes.baseAddress else { return false }
            #if canImport(Glibc)
            // Glibc's module does not export getrandom(2); /dev/urandom is the same source.
            let file = open("/dev/urandom", O_RDONLY | O_CLOEXEC)
            guard file >= 0 else { return false }
            defer { close(file) }
            return read(file, base, bytes.count) == bytes.count
            #else
            arc4random_buf(base, bytes.count)
            return true
            #endif
        }
        // A short read (an interrupted call): the system generator, one value at a time.
        if !filled {
            var generator = SystemRandomNumberGenerator()
            for index in values.indices { values[index] = generator.next() }
        }
        buffer = values
    }
}

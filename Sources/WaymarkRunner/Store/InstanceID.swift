import Foundation

/// New instance ids: random (version 4) UUIDs, lowercase, drawn from the same buffered kernel
/// source as the dispatch tokens. Foundation's `UUID()` opens, reads and closes /dev/urandom
/// for every id: three system calls per instance created, 2% of the runner's CPU under load.
enum InstanceID {
    private static let source = SharedRandom()

    static func make() -> String {
        let (high, low) = source.next128()
        var bytes = (high.bigEndian, low.bigEndian)
        return withUnsafeMutableBytes(of: &bytes) { raw in
            raw[6] = raw[6] & 0x0F | 0x40  // version 4
            raw[8] = raw[8] & 0x3F | 0x80  // RFC 4122 variant
            let uuid = UUID(uuid: (raw[0], raw[1], raw[2], raw[3], raw[4], raw[5], raw[6], raw[7],
                                   raw[8], raw[9], raw[10], raw[11], raw[12], raw[13], raw[14], raw[15]))
            return uuid.uuidString.lowercased()
        }
    }
}

/// A `SecretSource` any thread may draw from.
///
/// `@unchecked Sendable`: its state is guarded by the lock (the package still supports macOS
/// 14, which has no `Synchronization.Mutex`).
private final class SharedRandom: @unchecked Sendable {
    private let lock = NSLock()
    private var source = SecretSource()

    func next128() -> (UInt64, UInt64) {
        lock.withLock { (source.raw(), source.raw()) }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs work whose recursion depth the input chooses (the compiler's walks over a Python AST)
/// on a thread with a large stack.
///
/// CPython hands the compiler expressions up to about 3,000 levels deep (2,992 chained `+`);
/// lowering, checking, optimizing and printing them recursively needs more than a main thread's
/// 8 MB in a debug build. Rewriting every pass iteratively would obscure them; one big stack
/// keeps them plain. The stack is reserved address space: only the pages a deep input touches
/// are ever committed.
///
/// Work that is already on such a thread with most of its stack left runs in place. Starting and
/// joining a thread costs about 90 µs on this machine's VM (a cross-CPU wake-up each way), more
/// than a tenth of compiling a workflow file; a process that compiles many files (the compile
/// benchmark, `waymarkc` itself) pays it once by running its whole work in one `run`.
public enum LargeStack {
    /// 256 MiB: room for about 3,000 levels at 80 KB each.
    public static let size = 256 << 20
    /// How much of its stack a large-stack thread must still have for work to run on it in
    /// place: three quarters of `size`. Work nested in other work there (`waymarkc`'s command
    /// around the compiler) keeps at least that; deeper than that, it gets a thread of its own.
    static let enough = size / 4 * 3

    public static func run<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        if room() >= enough { return try body() }
        var outcome: Result<T, E>?
        withoutActuallyEscaping(body) { body in
            let box = Box {
                do throws(E) {
                    outcome = .success(try body())
                } catch {
                    outcome = .failure(error)
                }
            }
            var attributes = pthread_attr_t()
            pthread_attr_init(&attributes)
            defer { pthread_attr_destroy(&attributes) }
            pthread_attr_setstacksize(&attributes, size)
            let context = Unmanaged.passRetained(box).toOpaque()
            #if canImport(Glibc)
            var thread = pthread_t()
            #else
            var thread: pthread_t?
            #endif
            let created = pthread_create(&thread, &attributes, { context in
                let box = Unmanaged<Box>.fromOpaque(context!).takeRetainedValue()
                LargeStack.markCurrentThread()
                box.work()
                return nil
            }, context)
            guard created == 0 else {
                // No thread (resource limits): run here, as before this existed.
                Unmanaged<Box>.fromOpaque(context).takeRetainedValue().work()
                return
            }
            #if canImport(Glibc)
            pthread_join(thread, nil)
            #else
            if let thread { pthread_join(thread, nil) }
            #endif
        }
        switch outcome {
        case .success(let value)?: return value
        case .failure(let error)?: throw error
        case nil: fatalError("LargeStack: the work did not run")  // pthread_join returned before the body ended
        }
    }

    /// Where each large-stack thread records the lowest address of its stack; other threads
    /// have nothing there.
    private static let key: pthread_key_t? = {
        var key = pthread_key_t()
        return pthread_key_create(&key, nil) == 0 ? key : nil
    }()

    /// Records the current thread's stack limit under `key`, read back by `room()`: `size` below
    /// an address near the top of the thread's stack. pthread keeps its bookkeeping inside the
    /// reservation, so the true limit is a few KB higher; `enough` leaves far more than that.
    private static func markCurrentThread() {
        guard let key else { return }
        let top = here()
        guard top > UInt(size) else { return }
        pthread_setspecific(key, UnsafeRawPointer(bitPattern: top - UInt(size)))
    }

    /// An address in the caller's stack frame.
    @inline(never)
    private static func here() -> UInt {
        var local = 0
        return withUnsafeMutablePointer(to: &local) { UInt(bitPattern: $0) }
    }

    /// Bytes of stack left below the caller on a thread `run` started; 0 on any other thread.
    static func room() -> Int {
        guard let key, let low = pthread_getspecific(key) else { return 0 }
        let address = here()
        let limit = UInt(bitPattern: low)
        return address > limit ? Int(address - limit) : 0
    }

    /// The work a thread runs, passed through pthread's untyped context pointer.
    private final class Box: @unchecked Sendable {
        let work: () -> Void
        init(_ work: @escaping () -> Void) { self.work = work }
    }
}

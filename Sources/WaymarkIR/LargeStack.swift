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
public enum LargeStack {
    /// 256 MiB: room for about 3,000 levels at 80 KB each.
    public static let size = 256 << 20

    public static func run<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
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

    /// The work a thread runs, passed through pthread's untyped context pointer.
    private final class Box: @unchecked Sendable {
        let work: () -> Void
        init(_ work: @escaping () -> Void) { self.work = work }
    }
}

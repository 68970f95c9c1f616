#if canImport(Glibc)
import CMalloc
#endif

/// glibc malloc settings for a long-running runner process.
///
/// By default glibc hands memory back to the kernel as soon as 128 KiB sit free at the top of
/// an arena, and serves anything from 128 KiB up (a threshold it moves) with its own `mmap`.
/// A runner's memory swings with its in-flight actions (every dispatch waiting for a worker
/// slot holds a task and its frames), so the default returned pages after each burst and
/// faulted them back in, zeroed, for the next: in `runner-benchmark`'s in-memory fan-out row
/// the kernel zeroing pages for `sysmalloc` was 37% of the runner's CPU (125 → 67 µs per action
/// with these settings, peak RSS unchanged). Memory freed at the top is kept up to 256 MiB
/// and heaps grow 16 MiB at a time; the process's peak stays what its peak load needs.
public enum AllocatorTuning {
    /// Applies the settings for the process (calling it again sets the same values). A no-op
    /// where the C library is not glibc.
    public static func apply() {
        #if canImport(Glibc)
        let mebibyte: Int32 = 1 << 20
        // mallopt returns 0 on a value it refuses; each setting is independent, and a
        // refused one leaves glibc's default: slower, never wrong.
        _ = mallopt(M_TRIM_THRESHOLD, 256 * mebibyte)
        _ = mallopt(M_TOP_PAD, 16 * mebibyte)
        _ = mallopt(M_MMAP_THRESHOLD, 16 * mebibyte)
        #endif
    }
}

import Foundation
#if canImport(Glibc)
import Glibc
import WaymarkEval
#endif

/// Starts a worker process with posix_spawn, so that the runner chooses exactly what it inherits:
/// the protocol on fds 3 and 4 (pipes nothing else holds), fd 0 on /dev/null, fd 1 on the
/// runner's stderr (whatever an action writes to fd 1 cannot reach the protocol), no other fd, an empty
/// signal mask with default dispositions (workers used to inherit the mask of the runner thread
/// that started them, with almost every signal blocked, so orphans ignored SIGTERM), and a process
/// group of its own, so that a recycled worker's forked children go with it.
struct WorkerSpawn {
    /// The fds the worker reads dispatches from and writes answers to (python/waymark/worker.py).
    static let workerInput: Int32 = 3
    static let workerOutput: Int32 = 4

    let pid: pid_t
    /// The runner's ends: it writes dispatches to `input` and reads answers from `output`.
    let input: Int32
    let output: Int32

    /// Must run on a thread that lives as long as the worker: Linux's parent-death signal fires
    /// when the thread that spawned the process exits, not the runner.
    static func start(executable: String, arguments: [String], environment: [String: String]) throws(DispatchError) -> WorkerSpawn {
        let toWorker = try pipe()
        let fromWorker: (read: Int32, write: Int32)
        do {
            fromWorker = try pipe()
        } catch {
            close(toWorker.read)
            close(toWorker.write)
            throw error
        }
        defer {
            close(toWorker.read)
            close(fromWorker.write)
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, 2, 1)
        posix_spawn_file_actions_adddup2(&actions, toWorker.read, workerInput)
        posix_spawn_file_actions_adddup2(&actions, fromWorker.write, workerOutput)
        // Nothing else of the runner's: a file another thread opened without close-on-exec
        // would otherwise be writable by every action.
        // (The worker closes them too, where glibc is older than 2.34.)
        if let closeFrom = addCloseFrom { _ = closeFrom(&actions, workerOutput + 1) }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD, SIGALRM, SIGUSR1, SIGUSR2] {
            sigaddset(&defaults, signal)
        }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid: pid_t = 0
        let status = posix_spawnp(&pid, executable, &actions, &attributes, argv, envp)
        guard status == 0 else {
            close(toWorker.write)
            close(fromWorker.read)
            throw .cannotStart("\(executable): \(String(cString: strerror(status)))")
        }
        return WorkerSpawn(pid: pid, input: toWorker.write, output: fromWorker.read)
    }

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34+), which its Swift module does
    /// not declare.
    private static let addCloseFrom: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? = {
        guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
    }()

    /// A close-on-exec pipe whose ends are above the fds the child's are moved to (a dup2 onto
    /// 3 or 4 must not overwrite the other end). (Glibc's Swift module has no pipe2; the ends
    /// are without close-on-exec only until they are moved, and workers spawn one at a time.)
    static func pipe() throws(DispatchError) -> (read: Int32, write: Int32) {
        var fds: [Int32] = [0, 0]
        guard Glibc.pipe(&fds) == 0 else {
            throw .cannotStart("cannot create a pipe: \(String(cString: strerror(errno)))")
        }
        let moved = fds.map { fcntl($0, F_DUPFD_CLOEXEC, workerOutput + 1) }
        for fd in fds { close(fd) }
        guard moved[0] >= 0, moved[1] >= 0 else {
            for fd in moved where fd >= 0 { close(fd) }
            throw .cannotStart("cannot create a pipe: \(String(cString: strerror(errno)))")
        }
        return (moved[0], moved[1])
    }
}

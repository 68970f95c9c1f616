import Foundation

/// CPU-seconds used so far by the benchmark's three kinds of process, read from `/proc`: the
/// runner (this process, every thread), its Python workers (this process's descendants) and
/// the PostgreSQL server (the postmaster's tree). Wall-clock on a shared 2-core machine says
/// little; CPU per action, split by process, says where the cost is.
struct ProcessCPU {
    var runner: Double
    var workers: Double
    var postgres: Double

    static func - (after: ProcessCPU, before: ProcessCPU) -> ProcessCPU {
        ProcessCPU(runner: after.runner - before.runner, workers: after.workers - before.workers, postgres: after.postgres - before.postgres)
    }

    /// One process's line of `/proc/<pid>/stat`: its parent and its CPU ticks, its own and its
    /// reaped children's (so a child that exits between two samples keeps being counted).
    private struct Stat {
        var parent: Int32
        var own: Int
        var reaped: Int
    }

    /// A sample now; `postmaster` is the PostgreSQL server's pid, if there is one to count.
    static func sample(postmaster: Int32?) -> ProcessCPU {
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        var stats: [Int32: Stat] = [:]
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []  // no /proc: nothing to split
        for entry in entries {
            guard let pid = Int32(entry), let stat = read(pid) else { continue }
            stats[pid] = stat
        }
        var children: [Int32: [Int32]] = [:]
        for (pid, stat) in stats { children[stat.parent, default: []].append(pid) }
        func tree(_ root: Int32) -> Int {
            var total = 0
            var pending = children[root] ?? []
            while let pid = pending.popLast() {
                guard let stat = stats[pid] else { continue }
                total += stat.own + stat.reaped
                pending += children[pid] ?? []
            }
            return total
        }
        let me = getpid()
        let mine = stats[me] ?? Stat(parent: 0, own: 0, reaped: 0)
        let server = postmaster.map { pid in (stats[pid].map { $0.own + $0.reaped } ?? 0) + tree(pid) } ?? 0
        return ProcessCPU(runner: Double(mine.own) / ticks, workers: Double(mine.reaped + tree(me)) / ticks, postgres: Double(server) / ticks)
    }

    /// Fields 4 (ppid) and 14–17 (utime, stime, cutime, cstime), counted after the command
    /// name's closing parenthesis (the name may hold spaces and parentheses).
    private static func read(_ pid: Int32) -> Stat? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),  // gone already: not counted
            let close = text.lastIndex(of: ")")
        else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // fields[0] is the state (field 3), so field n is fields[n - 3].
        guard fields.count > 14, let parent = Int32(fields[1]), let utime = Int(fields[11]), let stime = Int(fields[12]),
            let cutime = Int(fields[13]), let cstime = Int(fields[14])
        else { return nil }
        return Stat(parent: parent, own: utime + stime, reaped: cutime + cstime)
    }

    /// The postmaster's pid, from the first line of `postmaster.pid` in the server's data
    /// directory (`scripts/test-postgres.sh` prints the directory holding `data/`).
    static func postmaster(directory: String?) -> Int32? {
        guard let directory else { return nil }
        for candidate in [directory + "/data/postmaster.pid", directory + "/postmaster.pid"] {
            if let text = try? String(contentsOfFile: candidate, encoding: .utf8),  // not this layout: try the next
                let line = text.split(separator: "\n").first, let pid = Int32(line)
            {
                return pid
            }
        }
        return nil
    }
}

import Foundation

/// Renders DOT with Graphviz's `dot` program, when it is installed.
public enum Graphviz {
    public struct RenderError: Error, CustomStringConvertible {
        public var description: String
    }

    /// The `dot` executable on PATH, if any.
    public static func dotExecutable() -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/dot"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Renders `dot` in `format`. Debian's Graphviz 2.43 stops with "trouble in init_rank" on
    /// some graphs whose clusters nest deeply (try/except in loops and helpers); those are drawn
    /// again without cluster ranking (`clusterrank=none`: the same nodes and edges, no boxes
    /// around loops and scopes), which 2.43 lays out. `newrank=true`, the usual remedy, makes
    /// more of our graphs fail on 2.43, not fewer.
    public static func render(_ dot: String, format: String, program: String) throws(RenderError) -> Data {
        do {
            return try run(dot, arguments: ["-T\(format)"], program: program)
        } catch let error where error.description.contains("trouble in init_rank") {
            return try run(dot, arguments: ["-T\(format)", "-Gclusterrank=none"], program: program)
        }
    }

    static func run(_ dot: String, arguments: [String], program: String) throws(RenderError) -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        let input = Pipe()
        let output = Pipe()
        let errors = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        do {
            try process.run()
        } catch {
            throw RenderError(description: "cannot run \(program): \(error.localizedDescription)")
        }
        // Write, and drain stderr, on threads of their own: a large graph, or Graphviz's long
        // internal trace on stderr, must not deadlock on a full pipe.
        let writer = Thread {
            input.fileHandleForWriting.write(Data(dot.utf8))
            try? input.fileHandleForWriting.close()  // dot exited early: its status says why
        }
        writer.start()
        let messages = Drained()
        let reader = Thread { messages.set(errors.fileHandleForReading.readDataToEndOfFile()) }
        reader.start()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: messages.wait(), as: UTF8.self)
        guard process.terminationStatus == 0 else {
            // Graphviz prints its whole internal trace; its first line says what went wrong.
            let first = text.split(separator: "\n").first { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
            throw RenderError(description: "Graphviz's dot failed (exit \(process.terminationStatus)): \(first.map(String.init) ?? "no message")")
        }
        return data
    }

    /// stderr's bytes, handed from the thread that drains it.
    final class Drained: @unchecked Sendable {  // guarded by `condition`
        private let condition = NSCondition()
        private var data: Data?

        func set(_ value: Data) {
            condition.lock()
            data = value
            condition.signal()
            condition.unlock()
        }

        func wait() -> Data {
            condition.lock()
            defer { condition.unlock() }
            while data == nil { condition.wait() }
            return data ?? Data()
        }
    }
}

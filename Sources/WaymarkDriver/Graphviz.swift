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

    public static func render(_ dot: String, format: String, program: String) throws(RenderError) -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = ["-T\(format)"]
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
        // Write on another thread so a large graph cannot deadlock on full pipes.
        let writer = Thread {
            input.fileHandleForWriting.write(Data(dot.utf8))
            try? input.fileHandleForWriting.close()
        }
        writer.start()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let messages = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            // Graphviz prints its whole internal trace; its first line says what went wrong.
            let text = String(decoding: messages, as: UTF8.self)
            let first = text.split(separator: "\n").first { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
            throw RenderError(description: "Graphviz's dot failed (exit \(process.terminationStatus)): \(first.map(String.init) ?? "no message")")
        }
        return data
    }
}

import Foundation

/// Writing a command's output file.
public enum OutputFile {
    public struct WriteError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Writes `data` to `path`: atomically (a temporary file renamed over it) for regular files,
    /// so a reader never sees half a bundle; in place for anything else, such as `/dev/null` or
    /// a pipe, which a rename would replace with a plain file.
    public static func write(_ data: Data, to path: String) throws(WriteError) {
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
        if isDirectory.boolValue { throw WriteError(description: "'\(path)' is a directory") }
        let type = exists ? (try? FileManager.default.attributesOfItem(atPath: path)[.type] as? FileAttributeType) : nil
        do {
            if exists, type != .typeRegular {
                guard let handle = FileHandle(forWritingAtPath: path) else {
                    throw WriteError(description: "cannot open '\(path)' for writing")
                }
                defer { try? handle.close() }
                try handle.write(contentsOf: data)
            } else {
                try data.write(to: URL(fileURLWithPath: path), options: .atomic)
            }
        } catch let error as WriteError {
            throw error
        } catch {
            throw WriteError(description: "cannot write '\(path)': \(error.localizedDescription)")
        }
    }
}

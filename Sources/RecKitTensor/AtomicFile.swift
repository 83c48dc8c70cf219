import Foundation

/// A file that could not be written.
public struct FileWriteError: Error, Sendable, Equatable, CustomStringConvertible {
    public var path: String
    public var reason: String
    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }
    public var description: String { "\(path): cannot write (\(reason))" }
}

/// Whole-file writes that readers never see half done.
public enum AtomicFile {
    /// Writes `data` to a temporary sibling of `path`, then renames it over `path` (rename(2) is
    /// atomic within a file system). Used instead of Foundation's `atomically:` writes, which on
    /// Linux leave an empty folder behind in the temporary directory for every call.
    public static func write(_ data: Data, to path: String) throws(FileWriteError) {
        // Unique per write, so that two writes of one path (threads of one process) never share it.
        let temporary = path + ".partial-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString)"
        guard FileManager.default.createFile(atPath: temporary, contents: data) else {
            throw FileWriteError(path: path, reason: "cannot create \(temporary)")
        }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw FileWriteError(path: path, reason: reason)
        }
    }

    /// `text` as UTF-8.
    public static func write(_ text: String, to path: String) throws(FileWriteError) {
        try write(Data(text.utf8), to: path)
    }
}

import Foundation

/// A fresh temporary folder, removed when the value is deinitialised.
public final class TemporaryDirectory: @unchecked Sendable {
    public let path: String

    public init() {
        path = NSTemporaryDirectory() + "reckit-test-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// Writes `contents` (bytes as given) to `name` and returns the full path.
    @discardableResult
    public func write(_ name: String, _ contents: String) -> String {
        write(name, bytes: Array(contents.utf8))
    }

    @discardableResult
    public func write(_ name: String, bytes: [UInt8]) -> String {
        let file = path + "/" + name
        let folder = (file as NSString).deletingLastPathComponent
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        precondition(
            FileManager.default.createFile(atPath: file, contents: Data(bytes)), "cannot write the fixture \(file)")
        return file
    }
}

/// The shared real data sets (`../shared/data` from the package root), or nil when absent so that
/// tests can skip with a message.
public enum SharedData {
    public static var root: String? {
        let environment = ProcessInfo.processInfo.environment["RECKIT_SHARED_DATA"]
        let candidates = [environment, packageRoot + "/../shared/data"].compactMap { $0 }
        return candidates.first { FileManager.default.fileExists(atPath: $0) }
    }

    /// `root/relativePath` if it exists.
    public static func path(_ relativePath: String) -> String? {
        guard let root else { return nil }
        let path = root + "/" + relativePath
        return FileManager.default.fileExists(atPath: path) ? path : nil
    }

    /// The peers' split folders (`../shared/peers/splits`, or beside `RECKIT_SHARED_DATA`'s data
    /// folder), or nil when absent.
    public static var peerSplits: String? {
        let environment = ProcessInfo.processInfo.environment["RECKIT_SHARED_DATA"].map { $0 + "/../peers/splits" }
        let candidates = [environment, packageRoot + "/../shared/peers/splits"].compactMap { $0 }
        return candidates.first { FileManager.default.fileExists(atPath: $0) }
    }

    /// The peers' split folder `relativePath`, if it exists.
    public static func peerSplit(_ relativePath: String) -> String? {
        guard let root = peerSplits else { return nil }
        let path = root + "/" + relativePath
        return FileManager.default.fileExists(atPath: path) ? path : nil
    }

    /// On CI (`CI=true`) the shared data must be there: a test that skips there would hide a regression.
    public static var requiredButMissing: [String] {
        guard ProcessInfo.processInfo.environment["CI"] == "true" else { return [] }
        return [("../shared/data", root), ("../shared/peers/splits", peerSplits)].filter { $0.1 == nil }.map(\.0)
    }

    /// The folder holding Package.swift, from this file's location.
    public static var packageRoot: String {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }
}

/// Python's `safetensors` package, for checking that our files are standard (tests skip without it).
public enum PythonSafetensors {
    public static let python = ProcessInfo.processInfo.environment["RECKIT_PYTHON"] ?? "python3"
    public static var available: Bool { (try? run("import safetensors, numpy")) != nil }

    /// Runs `code` with `python -c` and returns its standard output; throws when it fails.
    public static func run(_ code: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [python, "-c", code]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = Pipe()
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw CocoaError(.fileReadUnknown) }
        return String(decoding: data, as: UTF8.self)
    }
}

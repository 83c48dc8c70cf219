/// A problem with input data, naming the file, line and field where it was found.
///
/// `description` reads like a compiler diagnostic:
/// `ratings.csv:1042: field 'rating': "4,5" is not a number`.
public struct DataError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong.
    public enum Reason: Sendable, Equatable {
        case fileNotFound
        case unreadable(String)
        case emptyFile
        case missingColumn(String)
        case wrongFieldCount(expected: Int, found: Int)
        case notANumber(String)
        case notAnInteger(String)
        case notATime(String)
        case badEncoding(expected: String)
        case unterminatedQuote
        case unknownFormat(String)
        case invalidValue(String, String) // (text, why)
        case invalid(String) // a whole-file or in-memory condition
    }

    /// The file as the caller named it; nil for in-memory data.
    public var file: String?
    /// The 1-based line number; nil when the problem is not on one line.
    public var line: Int?
    /// The field (column name) involved, if any.
    public var field: String?
    public var reason: Reason

    public init(file: String? = nil, line: Int? = nil, field: String? = nil, _ reason: Reason) {
        self.file = file
        self.line = line
        self.field = field
        self.reason = reason
    }

    public var description: String {
        var location = file ?? "<memory>"
        if let line { location += ":\(line)" }
        let fieldPart = field.map { "field '\($0)': " } ?? ""
        return "\(location): \(fieldPart)\(reasonText)"
    }

    var reasonText: String {
        switch reason {
        case .fileNotFound: return "no such file or directory"
        case .unreadable(let why): return "cannot be read (\(why))"
        case .emptyFile: return "the file is empty"
        case .missingColumn(let name): return "missing column '\(name)'"
        case .wrongFieldCount(let expected, let found): return "expected \(expected) fields, found \(found)"
        case .notANumber(let text): return "\"\(text)\" is not a number"
        case .notAnInteger(let text): return "\"\(text)\" is not an integer"
        case .notATime(let text): return "\"\(text)\" is not a time (Unix seconds or ISO 8601)"
        case .badEncoding(let expected): return "the bytes are not valid \(expected)"
        case .unterminatedQuote: return "a quoted field is not closed"
        case .unknownFormat(let why): return "unknown format: \(why)"
        case .invalidValue(let text, let why): return "\"\(text)\" \(why)"
        case .invalid(let why): return why
        }
    }
}

/// What a loader does with a line it cannot parse.
public enum BadLinePolicy: Sendable, Equatable {
    /// Throw the first error (the default).
    case fail
    /// Skip bad lines, counting them and keeping the first `keepingFirst` errors for the report.
    case skip(keepingFirst: Int = 5)
}

/// What a loader read and what it skipped.
public struct LoadReport: Sendable, Equatable {
    /// Data lines parsed into interactions (after skipping, before de-duplication).
    public var rowCount = 0
    /// Lines skipped under `BadLinePolicy.skip`.
    public var skippedLineCount = 0
    /// The first skipped lines' errors.
    public var firstSkipped: [DataError] = []
    /// Rows removed or merged by the duplicate policy.
    public var duplicateCount = 0
    public init() {}
}

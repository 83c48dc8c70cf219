/// How fields are separated in a text file.
public enum Delimiter: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// A single byte such as `,`, tab, `;` or `|`.
    case byte(UInt8)
    /// The two-character `::` of MovieLens 1M and 10M `.dat` files.
    case doubleColon

    public static let comma = Delimiter.byte(UInt8(ascii: ","))
    public static let tab = Delimiter.byte(UInt8(ascii: "\t"))
    public static let pipe = Delimiter.byte(UInt8(ascii: "|"))
    public static let semicolon = Delimiter.byte(UInt8(ascii: ";"))

    public var description: String {
        switch self {
        case .doubleColon: return "::"
        case .byte(UInt8(ascii: "\t")): return "tab"
        case .byte(let byte): return String(UnicodeScalar(byte))
        }
    }

    /// Parses `,`, `tab` (or `\t`), `;`, `|`, `::` or any single ASCII character.
    public init?(name: String) {
        switch name {
        case "tab", "\\t", "\t": self = .tab
        case "::": self = .doubleColon
        default:
            guard name.utf8.count == 1, let byte = name.utf8.first, byte < 128 else { return nil }
            self = .byte(byte)
        }
    }
}

/// The text encoding of string fields (IDs, titles). Numbers are ASCII either way.
public enum TextEncoding: String, Sendable, Equatable, Codable, CaseIterable {
    case utf8
    /// ISO-8859-1, as in MovieLens 100K's `u.item` and HetRec's `tags.dat`.
    case latin1
}

/// The shape of a delimited text file. `nil` members are detected from the first lines.
public struct DelimitedFormat: Sendable, Equatable {
    public var delimiter: Delimiter?
    /// Whether the first line names the columns.
    public var hasHeader: Bool?
    public var encoding: TextEncoding
    /// Whether `"` quotes fields (RFC 4180: `""` inside a quoted field is one quote).
    public var quoting: Bool

    public init(
        delimiter: Delimiter? = nil, hasHeader: Bool? = nil, encoding: TextEncoding = .utf8, quoting: Bool = true
    ) {
        self.delimiter = delimiter
        self.hasHeader = hasHeader
        self.encoding = encoding
        self.quoting = quoting
    }

    /// Auto-detect everything (UTF-8, quoting on).
    public static let detect = DelimitedFormat()
}

/// Where a logical column is found: by header name (case-insensitive) or 0-based position.
public enum ColumnReference: Sendable, Equatable, Hashable, CustomStringConvertible {
    case name(String)
    case position(Int)

    /// `"3"` is a position, anything else a name.
    public init(_ text: String) {
        if let position = Int(text), position >= 0 { self = .position(position) } else { self = .name(text) }
    }

    public var description: String {
        switch self {
        case .name(let name): return name
        case .position(let position): return "#\(position)"
        }
    }
}

/// Which columns of a delimited file hold the user, item, rating, time and weight.
public struct ColumnMapping: Sendable, Equatable {
    public var user: ColumnReference
    public var item: ColumnReference
    public var rating: ColumnReference?
    public var timestamp: ColumnReference?
    public var weight: ColumnReference?

    public init(
        user: ColumnReference = .position(0), item: ColumnReference = .position(1), rating: ColumnReference? = nil,
        timestamp: ColumnReference? = nil, weight: ColumnReference? = nil
    ) {
        self.user = user
        self.item = item
        self.rating = rating
        self.timestamp = timestamp
        self.weight = weight
    }

    /// Header names recognised for each role (lower-case, without `_`, `-` or spaces).
    static let userNames: Set<String> = [
        "user", "userid", "uid", "users", "visitorid", "customerid", "sessionid", "session",
    ]
    static let itemNames: Set<String> = [
        "item", "itemid", "iid", "movie", "movieid", "artist", "artistid", "product", "productid", "track", "trackid",
    ]
    static let ratingNames: Set<String> = ["rating", "ratings", "score", "stars", "value"]
    static let timeNames: Set<String> = ["time", "timestamp", "ts", "date", "datetime", "eventtime", "unixtime"]
    static let weightNames: Set<String> = ["weight", "count", "playcount", "plays", "quantity", "confidence"]

    static func normalized(_ name: String) -> String {
        String(name.lowercased().filter { $0 != "_" && $0 != "-" && $0 != " " })
    }

    /// Guesses the roles from header names; nil when no user or item column is recognised.
    public static func detect(header: [String]) -> ColumnMapping? {
        let names = header.map(normalized)
        func find(_ set: Set<String>) -> ColumnReference? {
            names.firstIndex(where: set.contains).map { .name(header[$0]) }
        }
        guard let user = find(userNames), let item = find(itemNames) else { return nil }
        return ColumnMapping(
            user: user, item: item, rating: find(ratingNames), timestamp: find(timeNames), weight: find(weightNames))
    }

    /// The usual positional layout for a header-less file with `fieldCount` fields:
    /// user, item[, rating[, time]].
    public static func positional(fieldCount: Int) -> ColumnMapping {
        ColumnMapping(
            user: .position(0), item: .position(1), rating: fieldCount >= 3 ? .position(2) : nil,
            timestamp: fieldCount >= 4 ? .position(3) : nil)
    }
}

import RecKitTensor

/// How to read an interaction file; unset members are detected.
public struct InteractionFileOptions: Sendable {
    public var format: DelimitedFormat
    /// Which columns hold what; nil detects from header names, or takes user, item[, rating[, time]]
    /// by position.
    public var mapping: ColumnMapping?
    public var badLines: BadLinePolicy
    public var duplicates: DuplicatePolicy
    public var threadCount: Int
    /// Files smaller than this are read by one thread; larger ones in `threadCount` byte ranges.
    public var minimumChunkBytes = 1 << 22
    /// Tests only: replaces the sampled mean line length that sizes the columns.
    var meanLineLengthOverride: Double? = nil

    public init(
        format: DelimitedFormat = .detect, mapping: ColumnMapping? = nil, badLines: BadLinePolicy = .fail,
        duplicates: DuplicatePolicy = .keepAll, threadCount: Int = Parallel.defaultThreadCount
    ) {
        self.format = format
        self.mapping = mapping
        self.badLines = badLines
        self.duplicates = duplicates
        self.threadCount = threadCount
    }
}

/// Interactions read from one file, with the ID maps and what the loader settled on.
public struct LoadedInteractions: Sendable {
    public var interactions: Interactions
    public var users: IDMap
    public var items: IDMap
    public var report: LoadReport
    public var delimiter: Delimiter
    public var hasHeader: Bool
    public var mapping: ColumnMapping
}

/// One session: its external ID and the items clicked, in time order.
public struct Session: Sendable, Equatable {
    public var id: String
    public var items: [Int32]
    /// Unix seconds, aligned with `items`.
    public var timestamps: [Int64]
}

/// Session click logs (GRU4Rec format: `SessionId, ItemId, Time`), grouped into time-ordered sessions.
public struct SessionLog: Sendable {
    /// Sessions in ascending session-ID order (the order of the session `IDMap`).
    public var sessions: [Session]
    public var items: IDMap
    /// The clicks as interactions, sessions as users (for models that treat sessions as users).
    public var clicks: Interactions
    public var sessionIDs: IDMap
    public var report: LoadReport

    /// Number of clicks.
    public var clickCount: Int { clicks.count }

    /// Loads a click file (tab- or comma-separated; header names `SessionId`, `ItemId`, `Time` are found
    /// in any case, else the columns are taken in that order).
    /// - Parameter items: an existing item map (the training file's) to index a test file with;
    ///   unknown items are then an error. nil builds a new map.
    public static func load(
        _ path: String, items existing: IDMap? = nil, options: InteractionFileOptions = .init()
    ) throws(DataError) -> SessionLog {
        var fileOptions = options
        fileOptions.duplicates = .keepAll
        if fileOptions.mapping == nil {
            let sniff = try Sniffer.sniff(path, format: options.format)
            if let header = sniff.header {
                let names = header.map(ColumnMapping.normalized)
                let session = names.firstIndex(of: "sessionid") ?? names.firstIndex(of: "session") ?? 0
                let item = names.firstIndex(of: "itemid") ?? names.firstIndex(of: "item") ?? 1
                let time = names.firstIndex(of: "time") ?? names.firstIndex(of: "timestamp") ?? 2
                fileOptions.mapping = ColumnMapping(
                    user: .position(session), item: .position(item),
                    timestamp: time < header.count ? .position(time) : nil)
            } else {
                fileOptions.mapping = ColumnMapping(
                    user: .position(0), item: .position(1), timestamp: sniff.fieldCount > 2 ? .position(2) : nil)
            }
        }
        var loaded = try InteractionFileLoader.load(path, options: fileOptions)
        if let existing {
            var remapped = [Int32]()
            remapped.reserveCapacity(loaded.interactions.count)
            for (row, item) in loaded.interactions.items.enumerated() {
                guard let index = existing.index(of: loaded.items.id(at: item)) else {
                    throw DataError(
                        file: path, field: "item",
                        .invalidValue(loaded.items.id(at: item), "(row \(row + 1)) is not in the training items"))
                }
                remapped.append(index)
            }
            let clicks = loaded.interactions
            loaded.interactions = try Interactions(
                users: clicks.users, items: remapped, timestamps: clicks.timestamps, userCount: clicks.userCount,
                itemCount: existing.count)
            loaded.items = existing
        }
        let clicks = loaded.interactions
        // Group by session, then by time; equal times keep file order (stable counting sort + stable sort).
        let order = stableOrder(by: clicks.users, keyCount: clicks.userCount)
        var sessions: [Session] = []
        sessions.reserveCapacity(clicks.userCount)
        var start = 0
        while start < order.count {
            var end = start + 1
            while end < order.count && clicks.users[order[end]] == clicks.users[order[start]] { end += 1 }
            var rows = Array(order[start..<end])
            if let times = clicks.timestamps {
                rows = rows.enumerated().sorted { (times[$0.element], $0.offset) < (times[$1.element], $1.offset) }.map(
                    \.element)
            }
            let session = Int32(clicks.users[order[start]])
            sessions.append(
                Session(
                    id: loaded.users.id(at: session), items: rows.map { clicks.items[$0] },
                    timestamps: clicks.timestamps.map { times in rows.map { times[$0] } } ?? []))
            start = end
        }
        return SessionLog(
            sessions: sessions, items: loaded.items, clicks: clicks, sessionIDs: loaded.users, report: loaded.report)
    }
}

/// One next-item prediction task: the clicks so far and the click to predict.
public struct NextItemCase: Sendable, Equatable {
    public var sessionID: String
    public var prefix: [Int32]
    public var target: Int32
    /// The prefix's click contexts (from their times), when the data has times.
    public var contexts: [ClickContext]?

    public init(sessionID: String, prefix: [Int32], target: Int32, contexts: [ClickContext]? = nil) {
        self.sessionID = sessionID
        self.prefix = prefix
        self.target = target
        self.contexts = contexts
    }

    /// The prefixes' click contexts when every case has them, else nil.
    public static func contexts(of cases: [NextItemCase]) -> [[ClickContext]]? {
        let contexts = cases.compactMap(\.contexts)
        return contexts.count == cases.count ? contexts : nil
    }
}

extension SessionLog {
    /// The GRU4Rec evaluation cases of every session with at least two clicks: each prefix
    /// `items[0..<t]` predicts `items[t]`, for t = 1 … n − 1 (or only the last click with
    /// `lastOnly`).
    public func nextItemCases(lastOnly: Bool = false) -> [NextItemCase] {
        sessions.flatMap { session -> [NextItemCase] in
            guard session.items.count >= 2 else { return [] }
            let targets = lastOnly ? [session.items.count - 1] : Array(1..<session.items.count)
            return targets.map {
                NextItemCase(sessionID: session.id, prefix: Array(session.items[..<$0]), target: session.items[$0])
            }
        }
    }

    /// Session last-item split: every session of two or more clicks loses its last click to the test
    /// cases; the rest (and shorter sessions) train.
    public func splitLastItem() -> (train: [Session], test: [NextItemCase]) {
        var train: [Session] = []
        var test: [NextItemCase] = []
        for session in sessions {
            guard session.items.count >= 2 else {
                train.append(session)
                continue
            }
            var kept = session
            kept.items.removeLast()
            if !kept.timestamps.isEmpty { kept.timestamps.removeLast() }
            train.append(kept)
            test.append(NextItemCase(sessionID: session.id, prefix: kept.items, target: session.items.last!))
        }
        return (train, test)
    }

    /// Time split as in GRU4Rec's preprocessing: sessions that end within the last `days` days of
    /// the log are the test sessions, the others train; test sessions keep only items seen in
    /// training and need two clicks left.
    /// - Throws: `DataError` when the log has no times.
    public func splitLastDays(_ days: Int = 1) throws(DataError) -> (train: [Session], test: [Session]) {
        let ends = sessions.compactMap(\.timestamps.last)
        guard ends.count == sessions.count, let latest = ends.max() else {
            throw DataError(.invalid("a time split of sessions needs click times"))
        }
        let cut = latest - Int64(days) * 86_400
        let train = sessions.filter { $0.timestamps.last! <= cut }
        var known = Set<Int32>()
        for session in train { known.formUnion(session.items) }
        let test = sessions.filter { $0.timestamps.last! > cut }.compactMap { session -> Session? in
            var kept = session
            let keep = session.items.indices.filter { known.contains(session.items[$0]) }
            kept.items = keep.map { session.items[$0] }
            kept.timestamps = keep.map { session.timestamps[$0] }
            return kept.items.count >= 2 ? kept : nil
        }
        return (train, test)
    }
}

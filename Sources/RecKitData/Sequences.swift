/// Interactions read as sequences: each user's (or session's) items in time order, what
/// sequence models train on and what the next-item protocol predicts.
extension Interactions {
    /// Each user's items in time order, `userCount` arrays (empty for users without interactions).
    /// Equal times, and data without times, keep the rows' order (a click file's order within a
    /// session).
    public func sequences() -> [[Int32]] { sequenceRows().map { $0.map { items[$0] } } }

    /// The click contexts of `sequences()`, position by position; nil without timestamps.
    public func sequenceContexts() -> [[ClickContext]]? {
        guard let times = timestamps else { return nil }
        return sequenceRows().map { rows in
            rows.indices.map { ClickContext(time: times[rows[$0]], previous: $0 > 0 ? times[rows[$0 - 1]] : nil) }
        }
    }

    /// The times of `sequences()`, position by position; nil without timestamps.
    public func sequenceTimes() -> [[Int64]]? {
        guard let times = timestamps else { return nil }
        return sequenceRows().map { $0.map { times[$0] } }
    }

    /// Each user's rows in time order.
    public func sequenceRows() -> [[Int]] {
        var timeOrder: [Int]?
        if let times = timestamps {
            timeOrder = (0..<count).sorted { (times[$0], $0) < (times[$1], $1) }
        }
        let order = stableOrder(by: users, keyCount: userCount, after: timeOrder)
        var sequences = [[Int]](repeating: [], count: userCount)
        for row in order { sequences[Int(users[row])].append(row) }
        return sequences
    }
}

/// The context of a click read from its time (UTC), as Latent Cross (Beutel et al. 2018) feeds a
/// recurrent recommender: hour of day, weekday, and the gap since the previous click of the same
/// sequence in log₂-second buckets (0: the first click; 1 + ⌊log₂(gap + 1)⌋, at most 17).
public struct ClickContext: Sendable, Equatable, Hashable {
    public static let hourCount = 24
    public static let weekdayCount = 7
    public static let gapCount = 18
    public var hour: Int32
    /// Monday 0 … Sunday 6.
    public var weekday: Int32
    public var gap: Int32

    public init(hour: Int32, weekday: Int32, gap: Int32) {
        self.hour = hour
        self.weekday = weekday
        self.gap = gap
    }

    /// The context of a click at `time` (Unix seconds) after one at `previous`.
    public init(time: Int64, previous: Int64?) {
        let seconds = ((time % 86_400) + 86_400) % 86_400
        let days = (time - seconds) / 86_400
        hour = Int32(seconds / 3_600)
        weekday = Int32(((days + 3) % 7 + 7) % 7) // 1 January 1970 was a Thursday
        if let previous {
            let elapsed = UInt64(max(0, time - previous))
            gap = 1 + Int32(min(16, 63 - (elapsed + 1).leadingZeroBitCount))
        } else {
            gap = 0
        }
    }

    /// One number per click (hour + 24·(weekday + 7·gap)), how models store contexts.
    public var code: Int32 { hour + 24 * (weekday + 7 * gap) }

    public init(code: Int32) {
        self.init(hour: code % 24, weekday: (code / 24) % 7, gap: code / 168)
    }

    /// How many codes there are.
    public static let codeCount = hourCount * weekdayCount * gapCount
}

/// The next-item cases of a test file (GRU4Rec's protocol): every position t ≥ 1 of every
/// sequence predicts `items[t]` from `items[0..<t]`.
public struct NextItemCases: Sendable {
    public var cases: [NextItemCase]
    /// Sequences (sessions) that gave cases.
    public var sequenceCount: Int
    /// Clicks on items the training part does not have, removed before the cases were made.
    public var removedClicks: Int
    /// Sequences left with fewer than two clicks after that, dropped.
    public var droppedSequences: Int
}

extension Dataset {
    /// This data set's sequences (sessions, or users' histories in time order) as next-item cases
    /// over the items of `known` (the training part's map): clicks on other items are removed,
    /// then sequences shorter than two are dropped.
    public func nextItemCases(items known: IDMap) -> NextItemCases {
        let mapped = (0..<items.count).map { known.index(of: items.id(at: Int32($0))) }
        var cases: [NextItemCase] = []
        var result = NextItemCases(cases: [], sequenceCount: 0, removedClicks: 0, droppedSequences: 0)
        let sequenceContexts = interactions.sequenceContexts()
        for (user, sequence) in interactions.sequences().enumerated() where !sequence.isEmpty {
            let kept = sequence.compactMap { mapped[Int($0)] }
            result.removedClicks += sequence.count - kept.count
            guard kept.count >= 2 else {
                result.droppedSequences += 1
                continue
            }
            result.sequenceCount += 1
            let id = users.id(at: Int32(user))
            // A removed click still happened: the gaps stay measured to the previous click of the file.
            let contexts = sequenceContexts.map { all in
                all[user].indices.filter { mapped[Int(sequence[$0])] != nil }.map { all[user][$0] }
            }
            for t in 1..<kept.count {
                cases.append(
                    NextItemCase(
                        sessionID: id, prefix: Array(kept[..<t]), target: kept[t],
                        contexts: contexts.map { Array($0[..<t]) }))
            }
        }
        result.cases = cases
        return result
    }
}

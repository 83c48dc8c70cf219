/// Interactions read as sequences: each user's (or session's) items in time order, what
/// sequence models train on and what the next-item protocol predicts.
extension Interactions {
    /// Each user's items in time order, `userCount` arrays (empty for users without interactions).
    /// Equal times, and data without times, keep the rows' order (a click file's order within a
    /// session).
    public func sequences() -> [[Int32]] {
        var timeOrder: [Int]?
        if let times = timestamps {
            timeOrder = (0..<count).sorted { (times[$0], $0) < (times[$1], $1) }
        }
        let order = stableOrder(by: users, keyCount: userCount, after: timeOrder)
        var sequences = [[Int32]](repeating: [], count: userCount)
        for row in order { sequences[Int(users[row])].append(items[row]) }
        return sequences
    }
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
        for (user, sequence) in interactions.sequences().enumerated() where !sequence.isEmpty {
            let kept = sequence.compactMap { mapped[Int($0)] }
            result.removedClicks += sequence.count - kept.count
            guard kept.count >= 2 else {
                result.droppedSequences += 1
                continue
            }
            result.sequenceCount += 1
            let id = users.id(at: Int32(user))
            for t in 1..<kept.count {
                cases.append(NextItemCase(sessionID: id, prefix: Array(kept[..<t]), target: kept[t]))
            }
        }
        result.cases = cases
        return result
    }
}

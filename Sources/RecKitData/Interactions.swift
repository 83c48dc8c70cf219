/// User–item interactions as parallel columns (coordinate format), indexed by dense `Int32`s.
///
/// Row `i` says user `users[i]` met item `items[i]`, optionally with a rating (explicit feedback),
/// a weight (a play count or confidence), and a Unix time in seconds. Map indices to external IDs
/// with the `IDMap`s of the `Dataset` that holds these interactions.
public struct Interactions: Sendable, Equatable {
    public let users: [Int32]
    public let items: [Int32]
    /// Explicit ratings, if the source had them.
    public let ratings: [Float]?
    /// Unix times in seconds, if the source had them.
    public let timestamps: [Int64]?
    /// Implicit strengths such as play counts, if the source had them.
    public let weights: [Float]?
    public let userCount: Int
    public let itemCount: Int

    /// Validates and stores the columns.
    /// - Throws: `DataError.invalid` when lengths differ, an index is out of range or a value is not finite.
    public init(
        users: [Int32], items: [Int32], ratings: [Float]? = nil, timestamps: [Int64]? = nil,
        weights: [Float]? = nil, userCount: Int, itemCount: Int
    ) throws(DataError) {
        let n = users.count
        guard items.count == n, ratings.map({ $0.count == n }) ?? true, timestamps.map({ $0.count == n }) ?? true,
            weights.map({ $0.count == n }) ?? true
        else { throw DataError(.invalid("interaction columns have different lengths")) }
        guard userCount >= 0, itemCount >= 0, userCount <= Int(Int32.max), itemCount <= Int(Int32.max) else {
            throw DataError(.invalid("user and item counts must be in 0...\(Int32.max)"))
        }
        if let bad = users.firstIndex(where: { $0 < 0 || Int($0) >= userCount }) {
            throw DataError(.invalid("row \(bad): user index \(users[bad]) is outside 0..<\(userCount)"))
        }
        if let bad = items.firstIndex(where: { $0 < 0 || Int($0) >= itemCount }) {
            throw DataError(.invalid("row \(bad): item index \(items[bad]) is outside 0..<\(itemCount)"))
        }
        if let ratings, let bad = ratings.firstIndex(where: { !$0.isFinite }) {
            throw DataError(.invalid("row \(bad): rating is not finite"))
        }
        if let weights, let bad = weights.firstIndex(where: { !$0.isFinite }) {
            throw DataError(.invalid("row \(bad): weight is not finite"))
        }
        self.init(unchecked: users, items, ratings, timestamps, weights, userCount, itemCount)
    }

    /// For columns the library built itself and already knows to be valid.
    init(
        unchecked users: [Int32], _ items: [Int32], _ ratings: [Float]?, _ timestamps: [Int64]?, _ weights: [Float]?,
        _ userCount: Int, _ itemCount: Int
    ) {
        self.users = users
        self.items = items
        self.ratings = ratings
        self.timestamps = timestamps
        self.weights = weights
        self.userCount = userCount
        self.itemCount = itemCount
    }

    /// The number of interactions.
    public var count: Int { users.count }

    /// Fraction of the user × item matrix that is filled.
    public var density: Double {
        userCount == 0 || itemCount == 0 ? 0 : Double(count) / (Double(userCount) * Double(itemCount))
    }

    /// The strength used by implicit models: weight if present, else rating, else 1.
    public func value(at row: Int) -> Float { weights?[row] ?? ratings?[row] ?? 1 }

    /// The rows at `indices`, in that order, keeping the user and item counts.
    public func selecting(rows indices: [Int]) -> Interactions {
        Interactions(
            unchecked: indices.map { users[$0] }, indices.map { items[$0] }, ratings.map { r in indices.map { r[$0] } },
            timestamps.map { t in indices.map { t[$0] } }, weights.map { w in indices.map { w[$0] } },
            userCount, itemCount)
    }

    /// The rows for which `isIncluded(row)` is true, in order.
    public func filteringRows(_ isIncluded: (Int) -> Bool) -> Interactions {
        selecting(rows: (0..<count).filter(isIncluded))
    }

    /// Number of interactions per user (`[userCount]`).
    public func countsPerUser() -> [Int] {
        var counts = [Int](repeating: 0, count: userCount)
        for user in users { counts[Int(user)] += 1 }
        return counts
    }

    /// Number of interactions per item (`[itemCount]`).
    public func countsPerItem() -> [Int] {
        var counts = [Int](repeating: 0, count: itemCount)
        for item in items { counts[Int(item)] += 1 }
        return counts
    }
}

/// What to do when the same (user, item) pair occurs more than once.
public enum DuplicatePolicy: String, CaseIterable, Codable, Sendable {
    /// Keep every row (e.g. a click log).
    case keepAll
    /// Keep the row with the latest time (the last in file order among equal times).
    case keepLast
    /// One row whose rating and weight are the sums (a count is the number of rows when absent) and
    /// whose time is the latest.
    case sum
    /// One row with the largest rating and weight and the latest time.
    case max
}

extension Interactions {
    /// Merges repeated (user, item) pairs by `policy`; the result is ordered by user, then item.
    ///
    /// - Complexity: O(n) with two counting-sort passes.
    public func deduplicated(_ policy: DuplicatePolicy) -> Interactions {
        guard policy != .keepAll, count > 0 else { return self }
        // Stable order by (user, item): sort by item, then stably by user.
        let order = stableOrder(by: users, keyCount: userCount, after: stableOrder(by: items, keyCount: itemCount))
        var keptUsers: [Int32] = []
        var keptItems: [Int32] = []
        var keptRatings: [Float] = []
        var keptTimes: [Int64] = []
        var keptWeights: [Float] = []
        keptUsers.reserveCapacity(count)
        keptItems.reserveCapacity(count)
        var start = 0
        let countsAsWeight = policy == .sum && weights == nil && ratings == nil
        while start < order.count {
            var end = start + 1
            let u = users[order[start]]
            let i = items[order[start]]
            while end < order.count && users[order[end]] == u && items[order[end]] == i { end += 1 }
            let group = order[start..<end]
            // Latest time; among equal times the last row in file order (`order` is stable).
            var chosen = group.first!
            if let timestamps {
                for row in group where timestamps[row] >= timestamps[chosen] { chosen = row }
            } else {
                chosen = group.last!
            }
            keptUsers.append(u)
            keptItems.append(i)
            if let timestamps { keptTimes.append(timestamps[chosen]) }
            switch policy {
            case .keepLast, .keepAll:
                if let ratings { keptRatings.append(ratings[chosen]) }
                if let weights { keptWeights.append(weights[chosen]) }
            case .sum:
                if let ratings { keptRatings.append(group.reduce(0) { $0 + ratings[$1] }) }
                if let weights { keptWeights.append(group.reduce(0) { $0 + weights[$1] }) }
                if countsAsWeight { keptWeights.append(Float(group.count)) }
            case .max:
                if let ratings { keptRatings.append(group.map { ratings[$0] }.max()!) }
                if let weights { keptWeights.append(group.map { weights[$0] }.max()!) }
            }
            start = end
        }
        return Interactions(
            unchecked: keptUsers, keptItems, ratings == nil ? nil : keptRatings, timestamps == nil ? nil : keptTimes,
            (weights == nil && !countsAsWeight) ? nil : keptWeights, userCount, itemCount)
    }

    /// Keeps rows whose rating is at least `threshold` (explicit → implicit positives).
    /// Rows without ratings are kept as they are.
    public func keepingRatings(atLeast threshold: Float) -> Interactions {
        guard let ratings else { return self }
        return filteringRows { ratings[$0] >= threshold }
    }

    /// Keeps users with at least `minimumPerUser` rows, then items with at least `minimumPerItem`
    /// rows among those; one pass. Counts are unchanged (indices stay valid); see `compacted()`.
    public func filtered(minimumPerUser: Int = 1, minimumPerItem: Int = 1) -> Interactions {
        let perUser = countsPerUser()
        let byUser = filteringRows { perUser[Int(users[$0])] >= minimumPerUser }
        let perItem = byUser.countsPerItem()
        return byUser.filteringRows { perItem[Int(byUser.items[$0])] >= minimumPerItem }
    }

    /// Repeats `filtered` until every remaining user has at least `k` rows and every remaining item at
    /// least `k` (the k-core).
    public func kCore(_ k: Int) -> Interactions {
        var current = self
        while true {
            let next = current.filtered(minimumPerUser: k, minimumPerItem: k)
            if next.count == current.count { return next }
            current = next
        }
    }

    /// Renumbers users and items so that only those with rows remain, keeping relative order.
    /// - Returns: the interactions and, for each new index, the old user and item index.
    public func compacted() -> (interactions: Interactions, oldUsers: [Int32], oldItems: [Int32]) {
        func remap(_ column: [Int32], count: Int) -> ([Int32], [Int32]) {
            var used = [Bool](repeating: false, count: count)
            for value in column { used[Int(value)] = true }
            var newIndex = [Int32](repeating: -1, count: count)
            var old: [Int32] = []
            for index in 0..<count where used[index] {
                newIndex[index] = Int32(old.count)
                old.append(Int32(index))
            }
            return (column.map { newIndex[Int($0)] }, old)
        }
        let (newUsers, oldUsers) = remap(users, count: userCount)
        let (newItems, oldItems) = remap(items, count: itemCount)
        return (
            Interactions(unchecked: newUsers, newItems, ratings, timestamps, weights, oldUsers.count, oldItems.count),
            oldUsers, oldItems
        )
    }
}

/// A stable counting sort: the row order sorted by `keys`, ties kept in the order of `previous`
/// (or row order).
func stableOrder(by keys: [Int32], keyCount: Int, after previous: [Int]? = nil) -> [Int] {
    var starts = [Int](repeating: 0, count: keyCount + 1)
    for key in keys { starts[Int(key) + 1] += 1 }
    for index in 0..<keyCount { starts[index + 1] += starts[index] }
    var order = [Int](repeating: 0, count: keys.count)
    if let previous {
        for row in previous {
            let key = Int(keys[row])
            order[starts[key]] = row
            starts[key] += 1
        }
    } else {
        for row in keys.indices {
            let key = Int(keys[row])
            order[starts[key]] = row
            starts[key] += 1
        }
    }
    return order
}

extension Interactions {
    /// SHA-256 of the columns and counts: two equal fingerprints mean the same data, indices included.
    public func fingerprint() -> String {
        var hasher = Fingerprint.Hasher()
        withUnsafeBytes(of: Int64(userCount).littleEndian) { hasher.update($0) }
        withUnsafeBytes(of: Int64(itemCount).littleEndian) { hasher.update($0) }
        users.withUnsafeBytes { hasher.update($0) }
        items.withUnsafeBytes { hasher.update($0) }
        ratings?.withUnsafeBytes { hasher.update($0) }
        timestamps?.withUnsafeBytes { hasher.update($0) }
        weights?.withUnsafeBytes { hasher.update($0) }
        return hasher.finalizeHex()
    }
}

import Foundation
import RecKitTensor

/// Training and test interactions over one pair of ID maps, plus, for the sampled protocol, the
/// negatives each test user is ranked against.
public struct Split: Sendable {
    public var train: Interactions
    public var test: Interactions
    public var users: IDMap
    public var items: IDMap
    /// Per user, the sampled negative items of the NCF protocol (empty rows for users without any).
    public var negatives: [[Int32]]?
    /// Strong generalisation (`SplitMethod.users`): the held-out users' interactions a model may read
    /// as their histories (fold-in) but never trains on; `test` holds the rest of theirs.
    public var foldIn: Interactions?
    /// The items rankings choose from (true: a candidate), nil for all: a `cold-items:F` split ranks
    /// only the items without training interactions.
    public var candidates: [Bool]?
    /// How the split was made, e.g. `holdout:0.2 seed 42` or `split-dir ml-100k/...`.
    public var description: String
    /// The data set's side data, aligned with `items` and `users` (empty for a split folder).
    public var side = SideData()

    public init(
        train: Interactions, test: Interactions, users: IDMap, items: IDMap, negatives: [[Int32]]? = nil,
        foldIn: Interactions? = nil, description: String
    ) {
        self.train = train
        self.test = test
        self.foldIn = foldIn
        self.users = users
        self.items = items
        self.negatives = negatives
        self.description = description
    }
}

/// How to split a data set; parsed from the command line's `--split`.
public enum SplitMethod: Sendable, Equatable, CustomStringConvertible {
    /// A random fraction of all interactions is held out.
    case random(testFraction: Double)
    /// For every user with at least `minimumPerUser` interactions, a random fraction of them
    /// (`round(n · fraction)`, at least one) is held out.
    case holdout(testFraction: Double, minimumPerUser: Int)
    /// Each user's latest `count` interactions (ties: larger item index last) are held out; users
    /// need `count + 1` interactions.
    case leaveLastOut(count: Int)
    /// The latest `testFraction` of all interactions by time are held out.
    case temporal(testFraction: Double)
    /// Strong generalisation (Liang et al. 2018): a random `fraction` of the users is held out of
    /// training; of each held-out user with at least 5 interactions, a random `testFraction` is the
    /// test part and the rest the fold-in part a model reads as the user's history. Held-out users'
    /// interactions with items absent from training are dropped, as the paper's code does.
    case users(fraction: Double, testFraction: Double)
    /// Cold users: a random `fraction` of the users is held out entirely — all their interactions are
    /// the test part and training sees none, only their side data (features); a feature model scores
    /// them from attributes alone.
    case coldUsers(fraction: Double)
    /// Cold items: a random `fraction` of the items is held out entirely — all their interactions
    /// are the test part and training sees only their side data; each test user's ranking is among
    /// the held-out items alone (`Split.candidates`), what a catalogue of new items asks.
    case coldItems(fraction: Double)

    /// Parses `random:0.1`, `holdout:0.2`, `holdout:0.2:5`, `leave-last-out`, `leave-last-out:2`,
    /// `temporal:0.1`, `users:0.1`, `users:0.1:0.2`, `cold-users:0.1`, `cold-items:0.1`.
    public init?(argument: String) {
        let parts = argument.split(separator: ":").map(String.init)
        func fraction(_ index: Int) -> Double? {
            guard parts.count > index, let value = Double(parts[index]), value > 0, value < 1 else { return nil }
            return value
        }
        switch parts.first {
        case "random":
            guard parts.count == 2, let value = fraction(1) else { return nil }
            self = .random(testFraction: value)
        case "holdout":
            guard parts.count == 2 || parts.count == 3, let value = fraction(1) else { return nil }
            let minimum = parts.count == 3 ? Int(parts[2]) : 5
            guard let minimum, minimum >= 1 else { return nil }
            self = .holdout(testFraction: value, minimumPerUser: minimum)
        case "leave-last-out", "loo":
            let count = parts.count == 2 ? Int(parts[1]) : 1
            guard parts.count <= 2, let count, count >= 1 else { return nil }
            self = .leaveLastOut(count: count)
        case "temporal":
            guard parts.count == 2, let value = fraction(1) else { return nil }
            self = .temporal(testFraction: value)
        case "users":
            guard parts.count == 2 || parts.count == 3, let value = fraction(1) else { return nil }
            guard let test = parts.count == 3 ? fraction(2) : 0.2 else { return nil }
            self = .users(fraction: value, testFraction: test)
        case "cold-users":
            guard parts.count == 2, let value = fraction(1) else { return nil }
            self = .coldUsers(fraction: value)
        case "cold-items":
            guard parts.count == 2, let value = fraction(1) else { return nil }
            self = .coldItems(fraction: value)
        default:
            return nil
        }
    }

    public var description: String {
        switch self {
        case .random(let fraction): return "random:\(fraction)"
        case .holdout(let fraction, let minimum): return "holdout:\(fraction):\(minimum)"
        case .leaveLastOut(let count): return "leave-last-out:\(count)"
        case .temporal(let fraction): return "temporal:\(fraction)"
        case .users(let fraction, let test): return "users:\(fraction):\(test)"
        case .coldUsers(let fraction): return "cold-users:\(fraction)"
        case .coldItems(let fraction): return "cold-items:\(fraction)"
        }
    }
}

extension SplitMethod {
    /// The items a split made this way ranks (`Split.candidates`): for `cold-items`, those without
    /// interactions in `train`; nil (every item) otherwise.
    public func candidates(train: Interactions) -> [Bool]? {
        guard case .coldItems = self else { return nil }
        return train.countsPerItem().map { $0 == 0 }
    }
}

extension Dataset {
    /// Splits the interactions by `method` with a seeded generator; train and test share this data
    /// set's ID maps.
    /// - Throws: `DataError` when the method needs timestamps the data lacks.
    public func split(_ method: SplitMethod, seed: UInt64) throws(DataError) -> Split {
        let (train, test) = try interactions.split(method, seed: seed)
        guard case .users(_, let testFraction) = method else {
            var split = Split(
                train: train, test: test, users: users, items: items, description: "\(method) seed \(seed)")
            split.side = side
            split.candidates = method.candidates(train: train)
            return split
        }
        // The held-out users' interactions: a test part per user, the rest their fold-in histories.
        var generator = SplitMix64(seed: seed ^ 0x5EED_F01D)
        let isTest = Splitter.perUserHoldout(test, testFraction: testFraction, minimumPerUser: 5, using: &generator)
        let heldOut = test.filteringRows { isTest[$0] }
        var split = Split(
            train: train, test: heldOut, users: users, items: items, foldIn: test.filteringRows { !isTest[$0] },
            description: "\(method) seed \(seed): \(Set(test.users).count) held-out users, their histories folded in")
        split.side = side
        return split
    }

    /// `k` folds: fold `f` tests on the interactions (or, `byUser`, all interactions of the users)
    /// assigned to it by a seeded shuffle; the rest train.
    public func kFold(_ k: Int, byUser: Bool = false, seed: UInt64) -> [Split] {
        precondition(k >= 2, "k-fold needs k ≥ 2")
        var generator = SplitMix64(seed: seed)
        let data = interactions
        let unitCount = byUser ? data.userCount : data.count
        var order = Array(0..<unitCount)
        generator.shuffle(&order)
        var fold = [Int](repeating: 0, count: unitCount)
        for (position, unit) in order.enumerated() { fold[unit] = position % k }
        return (0..<k).map { f in
            let inFold = { (row: Int) in fold[byUser ? Int(data.users[row]) : row] == f }
            var split = Split(
                train: data.filteringRows { !inFold($0) }, test: data.filteringRows(inFold), users: users, items: items,
                description: "\(k)-fold\(byUser ? " by user" : "") fold \(f + 1) seed \(seed)")
            split.side = side
            return split
        }
    }
}

extension Interactions {
    /// Splits these interactions by `method` with a seeded generator (what `Dataset.split` does, and
    /// what models use to cut a validation part from their training data). For `.users` the second
    /// part is all of the held-out users' interactions with items in the first (`Dataset.split`
    /// divides it into fold-in and test parts).
    /// - Throws: `DataError` when the method needs timestamps the data lacks.
    public func split(_ method: SplitMethod, seed: UInt64) throws(DataError) -> (
        train: Interactions, test: Interactions
    ) {
        var generator = SplitMix64(seed: seed)
        let isTest: [Bool]
        switch method {
        case .random(let fraction):
            isTest = Splitter.random(count: count, testFraction: fraction, using: &generator)
        case .holdout(let fraction, let minimum):
            isTest = Splitter.perUserHoldout(self, testFraction: fraction, minimumPerUser: minimum, using: &generator)
        case .leaveLastOut(let count):
            guard timestamps != nil else {
                throw DataError(.invalid("leave-last-out needs timestamps; this data has none"))
            }
            isTest = Splitter.leaveLastOut(self, count: count)
        case .temporal(let fraction):
            guard timestamps != nil else {
                throw DataError(.invalid("a temporal split needs timestamps; this data has none"))
            }
            isTest = Splitter.temporal(self, testFraction: fraction)
        case .users(let fraction, _):
            let heldOut = Splitter.heldOut(users, count: userCount, fraction: fraction, using: &generator)
            let train = filteringRows { !heldOut[Int(users[$0])] }
            var inTraining = [Bool](repeating: false, count: itemCount)
            for item in train.items { inTraining[Int(item)] = true }
            return (train, filteringRows { heldOut[Int(users[$0])] && inTraining[Int(items[$0])] })
        case .coldUsers(let fraction):
            let heldOut = Splitter.heldOut(users, count: userCount, fraction: fraction, using: &generator)
            isTest = users.map { heldOut[Int($0)] }
        case .coldItems(let fraction):
            let heldOut = Splitter.heldOut(items, count: itemCount, fraction: fraction, using: &generator)
            isTest = items.map { heldOut[Int($0)] }
        }
        return (filteringRows { !isTest[$0] }, filteringRows { isTest[$0] })
    }
}

/// The split algorithms, as masks over the rows (true = test).
enum Splitter {
    static func random(count: Int, testFraction: Double, using generator: inout some RandomNumberGenerator) -> [Bool] {
        var order = Array(0..<count)
        generator.shuffle(&order)
        var isTest = [Bool](repeating: false, count: count)
        for row in order.prefix(Int((testFraction * Double(count)).rounded())) { isTest[row] = true }
        return isTest
    }

    /// Users in ascending index order, each user's rows by ascending item, one generator for all.
    static func perUserHoldout(
        _ data: Interactions, testFraction: Double, minimumPerUser: Int,
        using generator: inout some RandomNumberGenerator
    ) -> [Bool] {
        let order = stableOrder(
            by: data.users, keyCount: data.userCount, after: stableOrder(by: data.items, keyCount: data.itemCount))
        var isTest = [Bool](repeating: false, count: data.count)
        var start = 0
        while start < order.count {
            var end = start + 1
            while end < order.count && data.users[order[end]] == data.users[order[start]] { end += 1 }
            let count = end - start
            if count >= minimumPerUser {
                let testCount = max(1, Int((Double(count) * testFraction).rounded()))
                var positions = Array(0..<count)
                for index in 0..<testCount {
                    positions.swapAt(index, index + generator.nextIndex(below: count - index))
                    isTest[order[start + positions[index]]] = true
                }
            }
            start = end
        }
        return isTest
    }

    /// A random `fraction` (rounded, at least one) of the users with interactions, as a mask by user.
    /// A random `fraction` (at least one) of the users, or items, that occur in `column`.
    static func heldOut(
        _ column: [Int32], count: Int, fraction: Double, using generator: inout some RandomNumberGenerator
    ) -> [Bool] {
        var present = [Bool](repeating: false, count: count)
        for key in column { present[Int(key)] = true }
        var candidates = (0..<count).filter { present[$0] }
        generator.shuffle(&candidates)
        var heldOut = [Bool](repeating: false, count: count)
        for key in candidates.prefix(max(1, Int((fraction * Double(candidates.count)).rounded()))) {
            heldOut[key] = true
        }
        return heldOut
    }

    static func leaveLastOut(_ data: Interactions, count: Int) -> [Bool] {
        let times = data.timestamps!
        var byUser = [[Int]](repeating: [], count: data.userCount)
        for row in 0..<data.count { byUser[Int(data.users[row])].append(row) }
        var isTest = [Bool](repeating: false, count: data.count)
        for rows in byUser where rows.count > count {
            let sorted = rows.sorted { (times[$0], data.items[$0]) < (times[$1], data.items[$1]) }
            for row in sorted.suffix(count) { isTest[row] = true }
        }
        return isTest
    }

    static func temporal(_ data: Interactions, testFraction: Double) -> [Bool] {
        let times = data.timestamps!
        let order = (0..<data.count).sorted { (times[$0], $0) < (times[$1], $1) }
        let testCount = Int((testFraction * Double(data.count)).rounded())
        var isTest = [Bool](repeating: false, count: data.count)
        for row in order.suffix(testCount) { isTest[row] = true }
        return isTest
    }
}

extension Split {
    /// This split with `count` sampled negatives per test user (SASRec's and NCF's sampled protocol):
    /// distinct items drawn uniformly, seeded, among those the user has neither in training nor in
    /// test (fewer when the user has nearly every item).
    public func withSampledNegatives(_ count: Int, seed: UInt64) -> Split {
        var generator = Xoshiro256(seed: seed)
        var own = [Set<Int32>](repeating: [], count: train.userCount)
        for part in [train, test] {
            for row in 0..<part.count where Int(part.users[row]) < own.count {
                own[Int(part.users[row])].insert(part.items[row])
            }
        }
        var tested = [Bool](repeating: false, count: train.userCount)
        for user in test.users where Int(user) < tested.count { tested[Int(user)] = true }
        var negatives = [[Int32]](repeating: [], count: train.userCount)
        for user in 0..<train.userCount where tested[user] {
            let available = train.itemCount - own[user].count
            var chosen = Set<Int32>()
            var list: [Int32] = []
            while list.count < min(count, available) {
                let item = Int32(generator.nextIndex(below: train.itemCount))
                if !own[user].contains(item) && chosen.insert(item).inserted { list.append(item) }
            }
            negatives[user] = list
        }
        var split = self
        split.negatives = negatives
        split.description += ", \(count) sampled negatives per test user (seed \(seed))"
        return split
    }
}

import Testing
import _RecKitTestSupport

@testable import RecKitData

@Suite struct SplitTests {
    let dataset = SyntheticData.generate(preset: .tiny, seed: 11).ratings

    func pairs(_ data: Interactions) -> [[Int32]] { zip(data.users, data.items).map { [$0, $1] } }

    @Test(arguments: [
        SplitMethod.random(testFraction: 0.2), .holdout(testFraction: 0.2, minimumPerUser: 5), .leaveLastOut(count: 1),
        .temporal(testFraction: 0.1),
    ])
    func splitsPartitionTheDataAndAreSeeded(method: SplitMethod) throws {
        let a = try dataset.split(method, seed: 3)
        let b = try dataset.split(method, seed: 3)
        #expect(a.train == b.train && a.test == b.test)
        #expect(a.train.count + a.test.count == dataset.interactions.count)
        #expect(Set(pairs(a.train)).isDisjoint(with: Set(pairs(a.test))))
        #expect(a.users == dataset.users && a.items == dataset.items)
    }

    @Test func holdoutTakesRoundedFractionPerEligibleUser() throws {
        let split = try dataset.split(.holdout(testFraction: 0.2, minimumPerUser: 10), seed: 1)
        let total = dataset.interactions.countsPerUser()
        let test = split.test.countsPerUser()
        for user in 0..<total.count {
            let expected = total[user] >= 10 ? max(1, Int((Double(total[user]) * 0.2).rounded())) : 0
            #expect(test[user] == expected, "user \(user)")
        }
    }

    @Test func leaveLastOutHoldsOutTheLatest() throws {
        let split = try dataset.split(.leaveLastOut(count: 2), seed: 0)
        let times = dataset.interactions.timestamps!
        var latestTrain = [Int64](repeating: .min, count: dataset.users.count)
        for row in 0..<split.train.count {
            latestTrain[Int(split.train.users[row])] = max(
                latestTrain[Int(split.train.users[row])], split.train.timestamps![row])
        }
        for row in 0..<split.test.count {
            #expect(split.test.timestamps![row] >= latestTrain[Int(split.test.users[row])])
        }
        #expect(split.test.countsPerUser().allSatisfy { $0 == 2 || $0 == 0 })
        _ = times
    }

    /// Sampled negatives: `count` distinct items per test user, none the user has in training or
    /// test, the same for the same seed; users without test items get none.
    @Test func sampledNegativesAvoidTheUsersItems() throws {
        let train = try Interactions(users: [0, 0, 1, 1, 2], items: [0, 1, 2, 3, 4], userCount: 3, itemCount: 12)
        let test = try Interactions(users: [0, 1], items: [2, 5], userCount: 3, itemCount: 12)
        let split = Split(
            train: train, test: test, users: try IDMap(ids: ["a", "b", "c"]),
            items: try IDMap(ids: (0..<12).map(String.init)), description: "t")
        let sampled = split.withSampledNegatives(5, seed: 3)
        let negatives = try #require(sampled.negatives)
        #expect(negatives[0].count == 5 && Set(negatives[0]).count == 5 && negatives[2].isEmpty)
        #expect(Set(negatives[0]).isDisjoint(with: [0, 1, 2]) && Set(negatives[1]).isDisjoint(with: [2, 3, 5]))
        #expect(sampled.negatives == split.withSampledNegatives(5, seed: 3).negatives)
        // Fewer available than asked: all of them.
        #expect(Set(split.withSampledNegatives(20, seed: 1).negatives![0]) == Set((3..<12).map(Int32.init)))
    }

    @Test func strongGeneralisationHoldsOutWholeUsers() throws {
        let split = try dataset.split(.users(fraction: 0.25, testFraction: 0.2), seed: 5)
        let again = try dataset.split(.users(fraction: 0.25, testFraction: 0.2), seed: 5)
        let foldIn = try #require(split.foldIn)
        #expect(split.train == again.train && split.test == again.test && foldIn == again.foldIn)
        let heldOut = Set(foldIn.users).union(split.test.users)
        let present = Set(dataset.interactions.users)
        #expect(heldOut.count == Int((0.25 * Double(present.count)).rounded()))
        #expect(heldOut.isDisjoint(with: Set(split.train.users)))
        // Nothing but the held-out users' interactions with items never trained on is lost.
        let trainedItems = Set(split.train.items)
        let kept = dataset.interactions.filteringRows {
            !heldOut.contains(dataset.interactions.users[$0]) || trainedItems.contains(dataset.interactions.items[$0])
        }
        #expect(
            (pairs(split.train) + pairs(foldIn) + pairs(split.test)).sorted { $0.lexicographicallyPrecedes($1) }
                == pairs(kept).sorted { $0.lexicographicallyPrecedes($1) })
        #expect(Set(split.test.items).isSubset(of: trainedItems) && Set(foldIn.items).isSubset(of: trainedItems))
        // Each held-out user with at least 5 interactions tests a fifth of them (rounded, at least one).
        let folded = foldIn.countsPerUser()
        let tested = split.test.countsPerUser()
        for user in heldOut.map(Int.init) {
            let total = folded[user] + tested[user]
            #expect(tested[user] == (total >= 5 ? max(1, Int((Double(total) * 0.2).rounded())) : 0), "user \(user)")
        }
        #expect(try dataset.split(.users(fraction: 0.25, testFraction: 0.2), seed: 6).test != split.test)
    }

    /// Cold users: whole users held out, every one of their interactions tested, none trained on;
    /// the side data stays (features are what they are scored from).
    @Test func coldUsersAreHeldOutEntirely() throws {
        #expect(SplitMethod(argument: "cold-users:0.1") == .coldUsers(fraction: 0.1))
        #expect(SplitMethod(argument: "cold-users:1.5") == nil && SplitMethod(argument: "cold-users") == nil)
        let split = try dataset.split(.coldUsers(fraction: 0.25), seed: 5)
        #expect(split.train.count + split.test.count == dataset.interactions.count)
        let heldOut = Set(split.test.users)
        #expect(heldOut.count == Int((0.25 * Double(Set(dataset.interactions.users).count)).rounded()))
        #expect(heldOut.isDisjoint(with: Set(split.train.users)))
        #expect(split.side == dataset.side && split.foldIn == nil)
        #expect(try dataset.split(.coldUsers(fraction: 0.25), seed: 5).test == split.test)
    }

    /// Cold items: whole items held out, every interaction with them tested, none trained on; the
    /// split ranks them alone (its candidates are the items without training interactions); a split
    /// folder written from it reads back as the same split.
    @Test func coldItemsAreHeldOutEntirely() throws {
        #expect(SplitMethod(argument: "cold-items:0.1") == .coldItems(fraction: 0.1))
        #expect(SplitMethod(argument: "cold-items:0") == nil && SplitMethod(argument: "cold-items") == nil)
        #expect(SplitMethod.coldItems(fraction: 0.1).description == "cold-items:0.1")
        let split = try dataset.split(.coldItems(fraction: 0.25), seed: 5)
        #expect(split.train.count + split.test.count == dataset.interactions.count)
        let heldOut = Set(split.test.items)
        #expect(heldOut.count == Int((0.25 * Double(Set(dataset.interactions.items).count)).rounded()))
        #expect(heldOut.isDisjoint(with: Set(split.train.items)))
        let trained = Set(split.train.items)
        #expect(split.candidates == (0..<dataset.interactions.itemCount).map { !trained.contains(Int32($0)) })
        #expect(try dataset.split(.holdout(testFraction: 0.2, minimumPerUser: 5), seed: 5).candidates == nil)
        let folder = TemporaryDirectory()
        try SplitDirectory.write(split, to: folder.path)
        let back = try SplitDirectory.load(folder.path)
        func pairs(_ part: Interactions, _ of: Split) -> Set<String> {
            Set((0..<part.count).map { of.users.ids[Int(part.users[$0])] + " " + of.items.ids[Int(part.items[$0])] })
        }
        #expect(
            pairs(back.train, back) == pairs(split.train, split) && pairs(back.test, back) == pairs(split.test, split))
        #expect(back.test.ratings == split.test.ratings)
    }

    @Test func temporalCutIsGlobal() throws {
        let split = try dataset.split(.temporal(testFraction: 0.25), seed: 0)
        #expect(split.train.timestamps!.max()! <= split.test.timestamps!.min()!)
    }

    @Test func kFoldCoversEveryRowOnce() {
        // Rows as text, to compare multisets of interactions.
        func rows(_ data: Interactions) -> [String] {
            (0..<data.count).map {
                "\(data.users[$0]) \(data.items[$0]) \(data.ratings?[$0] ?? 0) \(data.timestamps?[$0] ?? 0)"
            }
        }
        let all = rows(dataset.interactions).sorted()
        for byUser in [false, true] {
            let folds = dataset.kFold(byUser ? 3 : 4, byUser: byUser, seed: 2)
            #expect(folds.count == (byUser ? 3 : 4))
            // Each row is in exactly one test fold, and every fold's train and test make up the data.
            #expect(folds.flatMap { rows($0.test) }.sorted() == all)
            for fold in folds {
                #expect(fold.test.count > 0 && (rows(fold.train) + rows(fold.test)).sorted() == all)
                if byUser { #expect(Set(fold.train.users).isDisjoint(with: Set(fold.test.users))) }
            }
        }
    }

    @Test func splitArgumentsParse() {
        #expect(SplitMethod(argument: "holdout:0.2") == .holdout(testFraction: 0.2, minimumPerUser: 5))
        #expect(SplitMethod(argument: "holdout:0.2:3") == .holdout(testFraction: 0.2, minimumPerUser: 3))
        #expect(SplitMethod(argument: "random:0.1") == .random(testFraction: 0.1))
        #expect(SplitMethod(argument: "leave-last-out") == .leaveLastOut(count: 1))
        #expect(SplitMethod(argument: "temporal:0.3") == .temporal(testFraction: 0.3))
        #expect(SplitMethod(argument: "users:0.1") == .users(fraction: 0.1, testFraction: 0.2))
        #expect(SplitMethod(argument: "users:0.1:0.5") == .users(fraction: 0.1, testFraction: 0.5))
        #expect(SplitMethod(argument: "users:1") == nil && SplitMethod(argument: "users:0.1:0") == nil)
        #expect(SplitMethod(argument: "holdout:2") == nil && SplitMethod(argument: "nope") == nil)
    }

    @Test func splitFoldersIndexTheUnionInAscendingOrder() throws {
        let folder = TemporaryDirectory()
        folder.write("s/train.tsv", "10\t5\n2\t7\n10\t100\n")
        folder.write("s/test.tsv", "2\t5\n3\t9\n")
        folder.write("s/negatives.tsv", "2\t100\t42\n")
        let split = try SplitDirectory.load(folder.path + "/s")
        #expect(split.users.ids == ["2", "3", "10"])
        #expect(split.items.ids == ["5", "7", "9", "42", "100"])
        #expect(split.train.users == [2, 0, 2] && split.train.items == [0, 1, 4])
        #expect(split.negatives?[0] == [4, 3] && split.negatives?[1] == [])
    }
}

@Suite struct SessionSplitTests {
    @Test func lastItemAndLastDaySplits() throws {
        let folder = TemporaryDirectory()
        let day: Int64 = 86_400
        let text = """
            SessionId\tItemId\tTime
            1\t10\t100
            1\t11\t200
            1\t12\t300
            2\t10\t\(100 + day)
            2\t13\t\(200 + day)
            3\t11\t\(100 + 3 * day)
            3\t10\t\(200 + 3 * day)
            3\t99\t\(300 + 3 * day)
            4\t5\t50

            """
        let log = try SessionLog.load(folder.write("clicks.tsv", text))
        let (train, test) = log.splitLastItem()
        #expect(test.map(\.target).map { log.items.id(at: $0) } == ["12", "13", "99"])
        #expect(test[0].prefix.map { log.items.id(at: $0) } == ["10", "11"])
        #expect(train.map(\.items.count) == [2, 1, 2, 1])
        #expect(log.nextItemCases().count == 2 + 1 + 2)
        // Session 3 ends within the last day; item 99 is unknown to training and is dropped.
        let byDay = try log.splitLastDays(1)
        #expect(byDay.train.map(\.id) == ["1", "2", "4"])
        #expect(byDay.test.map(\.id) == ["3"] && byDay.test[0].items.map { log.items.id(at: $0) } == ["11", "10"])
    }
}

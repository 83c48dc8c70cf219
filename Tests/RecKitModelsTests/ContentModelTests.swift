import RecKitData
import RecKitNN
import RecKitTensor
import Testing
import _RecKitTestSupport

@testable import RecKitModels

/// The content model on synthetic data whose users favour genres: items held out entirely (no
/// interactions) are ranked from their genres and titles alone, seeded runs repeat, items added
/// later get the same vector as an identical cold item, and bad settings fail clearly.
@Suite struct ContentModelTests {
    static let data = SyntheticData.generate(preset: .tiny, seed: 23).ratings
    static let split = try! data.split(.coldItems(fraction: 0.2), seed: 5)

    static func fit(_ settings: [String: String], threads: Int = 1) throws -> ContentModel {
        let base = ["base": "ials:factors=8:iterations=5"]
        let config = try ContentModel.config(from: base.merging(settings) { $1 })
        return try ContentModel(
            fitting: split.train, side: split.side, config: config, context: TrainingContext(threadCount: threads))
    }

    /// Mean over test users of the AUC of their held-out items among all cold items.
    static func coldItemAUC(_ model: ContentModel) -> Double {
        let cold = split.candidates!.indices.filter { split.candidates![$0] }
        let testItems = Dictionary(grouping: 0..<split.test.count) { split.test.users[$0] }
        var total = 0.0
        var users = 0
        for (user, rows) in testItems.sorted(by: { $0.key < $1.key }) {
            let positives = Set(rows.map { Int(split.test.items[$0]) })
            let scores = model.scores(forUsers: [user]).scalars
            let negatives = cold.filter { !positives.contains($0) }
            guard !negatives.isEmpty else { continue }
            var correct = 0.0
            for positive in positives {
                for negative in negatives {
                    correct += scores[positive] > scores[negative] ? 1 : scores[positive] == scores[negative] ? 0.5 : 0
                }
            }
            total += correct / Double(positives.count * negatives.count)
            users += 1
        }
        return total / Double(users)
    }

    @Test(arguments: ["cnn", "knn", "hybrid"])
    func coldItemsRankByContent(mapping: String) throws {
        // 320 items to learn from: every epoch rather than a 32-item validation part.
        let model = try Self.fit(["mapping": mapping, "validation": "0", "epochs": "40"])
        let auc = Self.coldItemAUC(model)
        #expect(auc > 0.62, "cold-item AUC \(auc)")
        // Items with interactions keep the base's vectors.
        let warm = try #require(Self.split.candidates!.firstIndex(of: false))
        let width = model.itemVectors.shape[1]
        #expect(
            model.itemVectors.scalars[(warm * width)..<((warm + 1) * width)]
                == model.base.itemVectors.scalars[(warm * width)..<((warm + 1) * width)])
    }

    @Test(arguments: ["cnn", "hybrid"])
    func seededRunsAreBitIdentical(mapping: String) throws {
        let settings = ["mapping": mapping, "epochs": "5", "filters": "8", "embedding": "8", "hidden": "16"]
        #expect(try Self.fit(settings).itemVectors == Self.fit(settings).itemVectors)
    }

    /// A new item with a cold item's metadata gets that item's vector, and nothing else moves.
    @Test(arguments: ["cnn", "knn", "hybrid"])
    func addedItemsGetTheirContentVector(mapping: String) throws {
        let model = try Self.fit(["mapping": mapping, "epochs": "5"])
        let cold = try #require(Self.split.candidates!.firstIndex(of: true))
        let catalog = try #require(Self.data.itemCatalog)
        let copy = ItemCatalog(
            titles: [catalog.titles[cold]], years: [catalog.years[cold]],
            genres: MultiValuedColumn(lists: [catalog.genres!.values(of: cold)]))
        let added = model.addingItems(copy)
        #expect(added.itemCount == model.itemCount + 1)
        let width = model.itemVectors.shape[1]
        let new = Array(added.itemVectors.scalars[(model.itemCount * width)...])
        let old = Array(model.itemVectors.scalars[(cold * width)..<((cold + 1) * width)])
        for (a, b) in zip(new, old) { #expect(abs(a - b) <= 1e-5 * max(1, abs(b))) }
        let before = model.scores(forUsers: [0, 3]).scalars
        let after = added.scores(forUsers: [0, 3]).scalars
        for user in 0..<2 {
            for item in 0..<model.itemCount {
                let (a, b) = (after[user * added.itemCount + item], before[user * model.itemCount + item])
                #expect(abs(a - b) <= 1e-5 * max(1, abs(b)))
            }
        }
        #expect(added.similarItems(to: Int32(model.itemCount), k: 1).first?.index == Int32(cold))
    }

    /// The score-space loss: ‖(a − b) L‖² equals the users' mean squared score difference (X aᵀ − X bᵀ)².
    @Test func scoreMetricMeasuresScoreErrors() {
        var generator = SplitMix64(seed: 3)
        let (users, width) = (50, 4)
        let x = Tensor(
            shape: [users, width], scalars: (0..<(users * width)).map { _ in generator.nextUnitFloat() - 0.5 })
        let a = (0..<width).map { _ in generator.nextUnitFloat() }
        let b = (0..<width).map { _ in generator.nextUnitFloat() }
        let metric = ContentModel.scoreMetric(x)
        let difference = Tensor(shape: [1, width], scalars: zip(a, b).map { $0 - $1 })
        let projected = difference.matmul(metric).scalars.reduce(0) { $0 + $1 * $1 }
        var direct: Float = 0
        for user in 0..<users {
            let row = x.scalars[(user * width)..<((user + 1) * width)]
            let score = zip(row, difference.scalars).reduce(0) { $0 + $1.0 * $1.1 }
            direct += score * score / Float(users)
        }
        #expect(abs(projected - direct) <= 1e-3 * direct, "\(projected) against \(direct)")
    }

    @Test func badSettingsAndDataFailClearly() throws {
        #expect(throws: ConfigError.self) { try ContentModel.config(from: ["base": "popularity"]) }
        #expect(throws: ConfigError.self) { try ContentModel.config(from: ["base": "ials:nope=1"]) }
        #expect(throws: ConfigError.self) { try ContentModel.config(from: ["window": "5", "title_length": "4"]) }
        #expect(throws: ConfigError.self) {
            try ContentModel(fitting: Self.split.train, side: SideData(), config: .init(), context: .init())
        }
    }
}

/// Two-stage: each user's best candidates of the retriever (their own items left out) come first, in
/// the ranker's order; the rest follow in the retriever's order.
@Suite struct TwoStageTests {
    @Test func candidatesComeFirstInTheRankersOrder() throws {
        let data = SyntheticData.generate(preset: .tiny, seed: 29).ratings
        let config = try TwoStage.config(from: [
            "retriever": "ials:factors=8:iterations=3", "ranker": "bpr:factors=8:epochs=3", "candidates": "15",
        ])
        let model = try TwoStage(fitting: data.interactions, side: data.side, config: config, context: .init())
        let users: [Int32] = [0, 7, 42]
        let retrieved = model.retriever.scores(forUsers: users)
        let ranked = model.ranker.scores(forUsers: users).scalars
        let combined = model.scores(forUsers: users)
        let seen = users.map { Array(model.seen.columns(inRow: Int($0))) }
        let candidates = retrieved.topKPerRow(15, excluding: seen)
        let final = combined.topKPerRow(15, excluding: seen)
        let n = model.itemCount
        for row in users.indices {
            #expect(Set(final[row].map(\.index)) == Set(candidates[row].map(\.index)))
            let order = candidates[row].map(\.index).sorted { a, b in
                let (x, y) = (ranked[row * n + Int(a)], ranked[row * n + Int(b)])
                return x != y ? x > y : a < b
            }
            #expect(final[row].map(\.index) == order)
            // Beyond the candidates, the retriever's order.
            let rest = combined.topKPerRow(30, excluding: seen)[row].suffix(15).map(\.index)
            let retrieverRest = retrieved.topKPerRow(30, excluding: seen)[row].suffix(15).map(\.index)
            #expect(rest == retrieverRest)
        }
        #expect(throws: ConfigError.self) { try TwoStage.config(from: ["ranker": "twostage"]) }
        #expect(throws: ConfigError.self) { try TwoStage.config(from: ["retriever": "nope"]) }
    }
}

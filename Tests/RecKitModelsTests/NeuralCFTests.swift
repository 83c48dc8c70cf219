import RecKitNN
import Testing
import _RecKitTestSupport

@testable import RecKitData
@testable import RecKitEval
@testable import RecKitModels

@Suite struct NeuralCFTests {
    static let data = SyntheticData.generate(preset: .small, seed: 61)
    static let split = try! data.ratings.split(.holdout(testFraction: 0.2, minimumPerUser: 5), seed: 61)

    func config(_ variant: NeuralCF.Variant = .neumf, epochs: Int = 4) -> NeuralCF.Config {
        var config = NeuralCF.Config()
        config.variant = variant
        config.factorCount = 8
        config.layers = [16, 8]
        config.epochCount = epochs
        config.learningRate = 0.005
        return config
    }

    @Test(arguments: NeuralCF.Variant.allCases)
    func learnsBeyondPopularity(variant: NeuralCF.Variant) throws {
        let split = Self.split
        let evaluator = FullRankingEvaluator(metrics: [.ndcg(10)])
        let popularity = try evaluator.evaluate(Popularity(fitting: split.train), train: split.train, test: split.test)[
            "ndcg@10"]!
        // The MLP tower alone learns the interaction slowest (as in the paper): more epochs.
        let model = try NeuralCF(fitting: split.train, config: config(variant, epochs: variant == .mlp ? 10 : 4))
        let ndcg = try evaluator.evaluate(model, train: split.train, test: split.test)["ndcg@10"]!
        #expect(ndcg > popularity, "\(variant) \(ndcg) vs popularity \(popularity)")
    }

    @Test func seededRunsAreRepeatableAndInferenceMatchesTheNetwork() throws {
        let a = try NeuralCF(fitting: Self.split.train, config: config(epochs: 1))
        let b = try NeuralCF(fitting: Self.split.train, config: config(epochs: 1))
        #expect(a.parameters == b.parameters)
        var other = config(epochs: 1)
        other.seed = 3
        #expect(try NeuralCF(fitting: Self.split.train, config: other).parameters != a.parameters)
        // The tensor-only scoring equals the training network's forward pass.
        let network = Network(config: a.config, userCount: a.userCount, itemCount: a.itemCount, restoring: a.parameters)
        for parameter in network.parameters { parameter.variable.value = a.parameters[parameter.name]! }
        let items = (0..<a.itemCount).map(Int32.init)
        let reference = network(users: [Int32](repeating: 7, count: items.count), items: items).value.scalars
        let scores = a.scores(forUsers: [7]).scalars
        #expect(zip(reference, scores).allSatisfy { abs($0 - $1) <= 1e-5 * max(1, abs($0)) })
    }

    @Test func foldInBeatsPopularityAndSettingsAreChecked() throws {
        let split = Self.split
        let model = try NeuralCF(fitting: split.train, config: config(.gmf))
        let seen = InteractionMatrix.byUser(split.train)
        let users = Array(0..<120)
        let folded = ScoreTable(
            name: "fold-in",
            (0..<split.train.userCount).map {
                users.contains($0)
                    ? model.scores(forHistory: Array(seen.columns(inRow: $0)))
                    : [Float](repeating: 0, count: model.itemCount)
            })
        let test = split.test.filteringRows { users.contains(Int(split.test.users[$0])) }
        let evaluator = FullRankingEvaluator(metrics: [.ndcg(10)])
        let popularity = try evaluator.evaluate(Popularity(fitting: split.train), train: split.train, test: test)[
            "ndcg@10"]!
        let foldIn = try evaluator.evaluate(folded, train: split.train, test: test)["ndcg@10"]!
        #expect(foldIn > popularity, "fold-in \(foldIn) vs popularity \(popularity)")
        #expect(model.scores(forHistory: [3, 1, 2]) == model.scores(forHistory: [1, 2, 3]))
        #expect(throws: ConfigError.self) { try ConfiguredModel("ncf", settings: ["layers": "15,8"]) }
        #expect(throws: ConfigError.self) { try ConfiguredModel("ncf", settings: ["layers": "16,x"]) }
        #expect(throws: ConfigError.self) { try ConfiguredModel("ncf", settings: ["variant": "deep"]) }
        #expect(throws: ConfigError.self) { try ConfiguredModel("ncf", settings: ["negatives": "0"]) }
    }

    @Test func trainingReportsEachPass() throws {
        final class Log: @unchecked Sendable { var updates: [TrainingUpdate] = [] }
        let log = Log()
        let passes = Log()
        _ = try ConfiguredModel("ncf", settings: ["epochs": "3", "factors": "4", "layers": "8,4"]).fit(
            Self.split.train, context: TrainingContext { log.updates.append($0) })
        #expect(
            log.updates.map(\.step) == [1, 2, 3] && log.updates.allSatisfy { $0.total == 3 && ($0.loss ?? -1) > 0 })
        #expect(log.updates[2].loss! < log.updates[0].loss!)
        _ = try ConfiguredModel("ials", settings: ["iterations": "2", "factors": "4"]).fit(
            Self.split.train, context: TrainingContext(threadCount: 1) { passes.updates.append($0) })
        #expect(passes.updates == [TrainingUpdate(step: 1, total: 2), TrainingUpdate(step: 2, total: 2)])
    }
}

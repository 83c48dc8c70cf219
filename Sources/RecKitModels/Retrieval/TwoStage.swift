import RecKitData
import RecKitNN
import RecKitTensor

/// Two-stage recommendation (Covington, Adams and Sargin 2016): a `retriever` scores the whole
/// catalogue and keeps each user's best `candidates` items they have not interacted with; a `ranker`
/// orders those. Both are trained on the same data (with its side data, which a feature model such as
/// `deepfm` reads) and saved in the one model directory. Items outside the candidates rank below every
/// candidate, in the retriever's order. The default ranker learns observed against sampled items
/// (`positive_threshold=0`, 4 negatives), as a top-N ranker must: one trained on rating ≥ 4 orders the
/// candidates by how well they would be rated, not by whether they will be chosen.
public struct TwoStage: SideDataModel {
    public static let name = "twostage"
    public static let summary = "a retriever's top candidates re-ordered by a ranker (e.g. youtubednn then deepfm)"
    public static let details = "both trained on the same data and saved as one model"

    public struct Config: ModelConfig {
        public var retriever = "youtubednn"
        public var ranker = "deepfm:positive_threshold=0:negatives=4"
        public var candidates = 200
        /// The seed of each stage that draws random numbers and gives none.
        public var seed: UInt64 = 0
        public init() {}

        public static let settings: [ModelSetting] = [
            ModelSetting(
                "retriever", .text(format: "name:key=value:…", example: "ials:factors=64"),
                "the model that scores the whole catalogue"),
            ModelSetting(
                "ranker", .text(format: "name:key=value:…", example: "widedeep"),
                "the model that orders the candidates"),
            .integer("candidates", .between(1, 100_000), "items per user the retriever hands to the ranker"),
            .seed,
        ]

        public func validate(model: String) throws(ConfigError) {
            for (key, text) in [("retriever", retriever), ("ranker", ranker)] {
                let stage = try ConfiguredModel(describedAs: text, in: model, key: key)
                if stage.name == TwoStage.name {
                    throw ConfigError(model: model, key: key, "a stage cannot itself be \(TwoStage.name)")
                }
            }
        }

        /// The two stages, each with this configuration's seed when it draws random numbers and gives none.
        func stages() throws(ConfigError) -> (retriever: ConfiguredModel, ranker: ConfiguredModel) {
            var seeded: [ConfiguredModel] = []
            for (key, text) in [("retriever", retriever), ("ranker", ranker)] {
                let stage = try ConfiguredModel(describedAs: text, in: TwoStage.name, key: key)
                seeded.append(stage.isSeeded ? try stage.seeded(seed) : stage)
            }
            return (seeded[0], seeded[1])
        }
    }

    public let config: Config
    public let retriever: any TrainableRecommender
    public let ranker: any TrainableRecommender
    /// Each training user's items, kept out of their candidates.
    public let seen: InteractionMatrix

    public var userCount: Int { seen.rowCount }
    public var itemCount: Int { retriever.itemCount }

    public init(fitting train: Interactions, side: SideData, config: Config, context: TrainingContext) throws {
        try Self.check(config)
        let (retrieverModel, rankerModel) = try config.stages()
        var stageContext = context
        stageContext.progress = nil
        try context.report(TrainingUpdate(step: 0, total: 2))
        retriever = try retrieverModel.fit(train, validation: nil, side: side, context: stageContext)
        try context.report(TrainingUpdate(step: 1, total: 2))
        ranker = try rankerModel.fit(train, validation: nil, side: side, context: stageContext)
        seen = InteractionMatrix.byUser(train)
        self.config = config
    }

    public func save(into weights: inout ModelWeights) {
        weights.store(retriever, prefix: "retriever.")
        weights.store(ranker, prefix: "ranker.")
        weights.store(seen, as: "twostage_seen")
    }

    public init(restoring config: Config, weights: ModelWeights, userCount: Int, itemCount: Int) throws(RestoreError) {
        let stages: (retriever: ConfiguredModel, ranker: ConfiguredModel)
        do { stages = try config.stages() } catch { throw RestoreError("\(error)") }
        func restore(_ stage: ConfiguredModel, _ prefix: String) throws(RestoreError) -> any TrainableRecommender {
            do {
                return try stage.type.restore(
                    config: stage.config.jsonObject, weights: weights.unprefixed(prefix), userCount: userCount,
                    itemCount: itemCount)
            } catch { throw RestoreError("\(prefix.dropLast()) (\(stage.name)): \(error)") }
        }
        self.config = config
        retriever = try restore(stages.retriever, "retriever.")
        ranker = try restore(stages.ranker, "ranker.")
        seen = try weights.matrix("twostage_seen", rows: userCount, columns: itemCount)
    }

    public func scores(forUsers users: [Int32]) -> Tensor {
        combine(
            retriever.scores(forUsers: users), ranker.scores(forUsers: users),
            excluded: users.map { Int($0) < seen.rowCount ? Array(seen.columns(inRow: Int($0))) : [] })
    }

    public func scores(forHistories histories: [[Int32]]) -> Tensor {
        combine(
            retriever.scores(forHistories: histories), ranker.scores(forHistories: histories), excluded: histories)
    }

    public func scores(forHistory history: [Int32]) -> [Float] { scores(forHistories: [history]).scalars }

    /// Per row: the retriever's best `candidates` items outside `excluded` carry the ranker's score
    /// lifted above every other item; the rest keep the retriever's order below them (their
    /// scores mapped into a band under the lowest candidate).
    func combine(_ retrieved: Tensor, _ ranked: Tensor, excluded: [[Int32]]) -> Tensor {
        let n = itemCount
        let lists = retrieved.topKPerRow(min(config.candidates, n), excluding: excluded)
        var result = [Float](repeating: 0, count: retrieved.shape[0] * n)
        for (row, list) in lists.enumerated() {
            let retrievedRow = retrieved.scalars[(row * n)..<((row + 1) * n)]
            let rankedRow = ranked.scalars[(row * n)..<((row + 1) * n)]
            let candidateScores = list.map { rankedRow[row * n + Int($0.index)] }
            let floor = (candidateScores.min() ?? 0) - 1
            // Non-candidates: the retriever's order squeezed into (floor − 1, floor).
            let low = retrievedRow.min() ?? 0
            let span = max((retrievedRow.max() ?? 0) - low, Float.leastNormalMagnitude)
            for item in 0..<n { result[row * n + item] = floor - 1 + (retrievedRow[row * n + item] - low) / span * 0.5 }
            for (entry, score) in zip(list, candidateScores) { result[row * n + Int(entry.index)] = score }
        }
        return Tensor(shape: [retrieved.shape[0], n], scalars: result)
    }
}

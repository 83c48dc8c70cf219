import RecKitData
import RecKitNN
import RecKitTensor

/// Two-stage recommendation (Covington, Adams and Sargin 2016): a `retriever` scores the whole
/// catalogue and keeps each user's best `candidates` items they have not interacted with; the
/// ranking stage orders those with what the retriever does not see. With `holdout` > 0 (the default)
/// that order is learned: each user's last `holdout` training interactions are held out, both stages
/// are fitted on the rest, and an MLP over each candidate's `CandidateFeatures` (the retriever's
/// score and rank, the `ranker` model's score, popularity overall and lately, the user × genre
/// affinity, interactions since the user last met the item's genres, similarity to the recent
/// items, the year gap) learns, listwise, to put the held-out item first among the user's
/// candidates; then both stages are refitted on everything. With `holdout=0` the `ranker` model's
/// score alone orders the candidates. Everything is saved in the one model directory. Items outside
/// the candidates rank below every candidate, in the retriever's order. The default ranker model
/// learns observed against sampled items (`positive_threshold=0`, 4 negatives): one trained on
/// rating ≥ 4 scores how well an item would be rated, not whether it will be chosen.
public struct TwoStage: SideDataModel {
    public static let name = "twostage"
    public static let summary = "a retriever's top candidates re-ordered by a ranker (e.g. youtubednn then deepfm)"
    public static let details = "the ranking learned on each user's held-out last items; saved as one model"

    public struct Config: ModelConfig {
        public var retriever = "youtubednn"
        public var ranker = "deepfm:positive_threshold=0:negatives=4"
        public var candidates = 200
        public var holdout = 1
        public var recent = 5
        public var hidden = 32
        public var epochCount = 200
        public var patience = 10
        public var validation = 0.1
        public var batchSize = 32
        public var learningRate: Float = 0.003
        /// The seed of each stage that draws random numbers and gives none.
        public var seed: UInt64 = 0
        public init() {}

        enum CodingKeys: String, CodingKey {
            case retriever, ranker, candidates, holdout, recent, hidden, epochCount = "epochs", patience, validation
            case batchSize = "batch_size", learningRate = "learning_rate", seed
        }

        public static let settings: [ModelSetting] = [
            ModelSetting(
                "retriever", .text(format: "name:key=value:…", example: "ials:factors=64"),
                "the model that scores the whole catalogue"),
            ModelSetting(
                "ranker", .text(format: "name:key=value:…", example: "widedeep"),
                "the model whose score the ranking stage reads (none: no such model)"),
            .integer("candidates", .between(1, 100_000), "items per user the retriever hands to the ranking stage"),
            .integer(
                "holdout", .between(0, 100),
                "each user's last interactions the ranking is learned on (0: the ranker model's score orders)"),
            .integer("recent", .between(1, 1000), "latest history items the similarity and year features read"),
            .integer("hidden", .between(0, 4096), "the ranking MLP's hidden width (0: linear)"),
            .epochs("the most passes over the users' candidate lists"),
            .patience,
            .number(
                "validation", .from(0, below: 1),
                "fraction of the users held out to choose the ranking's epoch (0: train every epoch)"),
            .batchSize("candidate lists per step"),
            .learningRate("Adam step of the ranking MLP"),
            .seed,
        ]

        public func validate(model: String) throws(ConfigError) {
            for (key, text) in [("retriever", retriever), ("ranker", ranker)] {
                if key == "ranker" && text == "none" {
                    if holdout == 0 {
                        throw ConfigError(model: model, key: key, "none needs holdout > 0 (a learned ranking)")
                    }
                    continue
                }
                let stage = try ConfiguredModel(describedAs: text, in: model, key: key)
                if stage.name == TwoStage.name {
                    throw ConfigError(model: model, key: key, "a stage cannot itself be \(TwoStage.name)")
                }
            }
        }

        /// The two stages (no ranker model for `none`), each with this configuration's seed when it
        /// draws random numbers and gives none.
        func stages() throws(ConfigError) -> (retriever: ConfiguredModel, ranker: ConfiguredModel?) {
            func stage(_ key: String, _ text: String) throws(ConfigError) -> ConfiguredModel {
                let stage = try ConfiguredModel(describedAs: text, in: TwoStage.name, key: key)
                return stage.isSeeded ? try stage.seeded(seed) : stage
            }
            return (try stage("retriever", retriever), ranker == "none" ? nil : try stage("ranker", ranker))
        }

        var scorerSettings: CandidateScorer.Settings {
            CandidateScorer.Settings(
                hidden: hidden, epochs: epochCount, patience: patience, learningRate: learningRate,
                batchSize: batchSize, validation: validation, seed: seed)
        }
    }

    public let config: Config
    public let retriever: any TrainableRecommender
    public let ranker: (any TrainableRecommender)?
    /// Each training user's items, kept out of their candidates.
    public let seen: InteractionMatrix
    /// Each training user's items in time order (the features' history).
    let histories: [[Int32]]
    let catalog: CandidateCatalog
    /// The learned ordering (nil with `holdout=0`).
    let scorer: CandidateScorer?

    public var userCount: Int { seen.rowCount }
    public var itemCount: Int { retriever.itemCount }

    public init(fitting train: Interactions, side: SideData, config: Config, context: TrainingContext) throws {
        try Self.check(config)
        let (retrieverModel, rankerModel) = try config.stages()
        var stageContext = context
        stageContext.progress = nil
        let total = config.holdout > 0 ? 4 : 2
        var scorer: CandidateScorer?
        if config.holdout > 0 {
            // Each user's last `holdout` interactions are what the ranking learns to find; users with
            // too few keep all theirs in the stages' data.
            var early: [Int] = []
            var users: [Int32] = []
            var targets: [Set<Int32>] = []
            for (user, rows) in train.sequenceRows().enumerated() {
                if rows.count > config.holdout + 1 {
                    early += rows.dropLast(config.holdout)
                    users.append(Int32(user))
                    targets.append(Set(rows.suffix(config.holdout).map { train.items[$0] }))
                } else {
                    early += rows
                }
            }
            let earlyTrain = train.selecting(rows: early.sorted())
            try context.report(TrainingUpdate(step: 0, total: total))
            let earlyRetriever = try retrieverModel.fit(earlyTrain, validation: nil, side: side, context: stageContext)
            let earlyRanker = try rankerModel?.fit(earlyTrain, validation: nil, side: side, context: stageContext)
            try context.report(TrainingUpdate(step: 1, total: total))
            let histories = earlyTrain.sequences()
            let features = CandidateFeatures(
                catalog: CandidateCatalog(train: earlyTrain, items: side.items, retriever: earlyRetriever),
                recent: config.recent)
            let lists = Self.candidates(
                retriever: earlyRetriever, ranker: earlyRanker, features: features, count: config.candidates,
                users: users, histories: users.map { histories[Int($0)] },
                excluded: users.map { Array(histories[Int($0)]) })
            let labelled = zip(lists, targets).map { list, chosen in
                CandidateScorer.List(
                    features: list.features,
                    positives: list.candidates.enumerated().compactMap { chosen.contains($1.index) ? Int32($0) : nil })
            }
            scorer = try CandidateScorer.train(labelled, settings: config.scorerSettings, context: stageContext)
            try context.report(TrainingUpdate(step: 2, total: total))
        } else {
            try context.report(TrainingUpdate(step: 0, total: total))
        }
        retriever = try retrieverModel.fit(train, validation: nil, side: side, context: stageContext)
        try context.report(TrainingUpdate(step: total - 1, total: total))
        ranker = try rankerModel?.fit(train, validation: nil, side: side, context: stageContext)
        seen = InteractionMatrix.byUser(train)
        histories = train.sequences()
        catalog = CandidateCatalog(train: train, items: side.items, retriever: retriever)
        self.scorer = scorer
        self.config = config
    }

    public func save(into weights: inout ModelWeights) {
        weights.store(retriever, prefix: "retriever.")
        if let ranker { weights.store(ranker, prefix: "ranker.") }
        weights.store(seen, as: "twostage_seen")
        weights.store(sequences: histories, as: "twostage_histories")
        catalog.save(into: &weights, prefix: "twostage_catalog.")
        scorer?.save(into: &weights, prefix: "twostage_scorer.")
    }

    public init(restoring config: Config, weights: ModelWeights, userCount: Int, itemCount: Int) throws(RestoreError) {
        let stages: (retriever: ConfiguredModel, ranker: ConfiguredModel?)
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
        ranker = try stages.ranker.map { stage throws(RestoreError) in try restore(stage, "ranker.") }
        seen = try weights.matrix("twostage_seen", rows: userCount, columns: itemCount)
        histories = try weights.sequences("twostage_histories", count: userCount, itemCount: itemCount)
        catalog = try CandidateCatalog(
            restoring: weights, prefix: "twostage_catalog.", itemCount: itemCount, retriever: retriever)
        scorer =
            config.holdout > 0
            ? try CandidateScorer.restore(weights, prefix: "twostage_scorer.", hidden: config.hidden) : nil
    }

    public func scores(forUsers users: [Int32]) -> Tensor {
        combine(
            retriever.scores(forUsers: users), ranker?.scores(forUsers: users),
            histories: users.map { Int($0) < histories.count ? histories[Int($0)] : [] },
            excluded: users.map { Int($0) < seen.rowCount ? Array(seen.columns(inRow: Int($0))) : [] })
    }

    public func scores(forHistories histories: [[Int32]]) -> Tensor {
        combine(
            retriever.scores(forHistories: histories), ranker?.scores(forHistories: histories),
            histories: histories, excluded: histories)
    }

    public func scores(forHistory history: [Int32]) -> [Float] { scores(forHistories: [history]).scalars }

    /// Each row's best `count` retrieved items outside `excluded`, with their features.
    static func candidates(
        retriever: any Recommender, ranker: (any Recommender)?, features: CandidateFeatures, count: Int,
        users: [Int32], histories: [[Int32]], excluded: [[Int32]]
    ) -> [(candidates: [ScoredIndex], features: [Float])] {
        var result: [(candidates: [ScoredIndex], features: [Float])] = []
        let chunk = 512
        for start in stride(from: 0, to: users.count, by: chunk) {
            let range = start..<min(users.count, start + chunk)
            let chunkUsers = Array(users[range])
            let retrieved = retriever.scores(forUsers: chunkUsers)
            let ranked = ranker?.scores(forUsers: chunkUsers)
            result += rows(
                retrieved, ranked, features: features, count: count, histories: Array(histories[range]),
                excluded: Array(excluded[range]))
        }
        return result
    }

    /// Per row of `retrieved`: the best `count` items outside `excluded` and their features.
    static func rows(
        _ retrieved: Tensor, _ ranked: Tensor?, features: CandidateFeatures, count: Int, histories: [[Int32]],
        excluded: [[Int32]]
    ) -> [(candidates: [ScoredIndex], features: [Float])] {
        let n = retrieved.shape[1]
        let lists = retrieved.topKPerRow(min(count, n), excluding: excluded)
        return lists.enumerated().map { row, list in
            let rankerRow = ranked.map { $0.scalars[(row * n)..<((row + 1) * n)] }
            return (list, features.rows(history: histories[row], candidates: list, rankerScores: rankerRow))
        }
    }

    /// Per row: the retriever's best `candidates` items outside `excluded` carry the ranking stage's
    /// score lifted above every other item; the rest keep the retriever's order below them (their
    /// scores mapped into a band under the lowest candidate).
    func combine(_ retrieved: Tensor, _ ranked: Tensor?, histories: [[Int32]], excluded: [[Int32]]) -> Tensor {
        let n = itemCount
        let features = CandidateFeatures(catalog: catalog, recent: config.recent)
        let rows = Self.rows(
            retrieved, ranked, features: features, count: config.candidates, histories: histories, excluded: excluded)
        var result = [Float](repeating: 0, count: retrieved.shape[0] * n)
        for (row, entry) in rows.enumerated() {
            let retrievedRow = retrieved.scalars[(row * n)..<((row + 1) * n)]
            let candidateScores =
                scorer?.scores(entry.features)
                ?? entry.candidates.map { ranked!.scalars[row * n + Int($0.index)] }
            let floor = (candidateScores.min() ?? 0) - 1
            // Non-candidates: the retriever's order squeezed into (floor − 1, floor).
            let low = retrievedRow.min() ?? 0
            let span = max((retrievedRow.max() ?? 0) - low, Float.leastNormalMagnitude)
            for item in 0..<n { result[row * n + item] = floor - 1 + (retrievedRow[row * n + item] - low) / span * 0.5 }
            for (entry, score) in zip(entry.candidates, candidateScores) { result[row * n + Int(entry.index)] = score }
        }
        return Tensor(shape: [retrieved.shape[0], n], scalars: result)
    }
}

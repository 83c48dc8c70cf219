import Foundation
import RecKitData
import RecKitNN
import RecKitTensor

/// Several trained models as one: each member scores every item, and the scores are fused per user,
///
/// - `fusion=score`: each member's scores standardised over the items (z-scores, so that a model
///   scoring in [0, 1] and one scoring in counts weigh alike), then a weighted sum;
/// - `fusion=rank`: weighted reciprocal-rank fusion Σ_m w_m / (60 + rank_m(i)) (Cormack et al. 2009).
///
/// Members are given as `name:key=value:…,name:…` (`ease:regularization=500,slim:alpha=0.3`), trained
/// on the same data with the same context, and saved inside the ensemble's own model directory;
/// weights (`weights=1,0.5`, default equal) are what `reckit tune` can choose on validation
/// (`--space` with `weights: ["1,1", "1,0.5", "1,2"]`).
public struct Ensemble: TrainableRecommender {
    public static let name = "ensemble"
    public static let summary = "score or rank fusion of several models, trained and saved as one"

    public enum Fusion: String, Codable, Sendable, CaseIterable {
        case score, rank
    }

    public struct Config: ModelConfig {
        /// `name:key=value:…,name:…`; by default two strong simple baselines at their defaults.
        public var members = "ease,rp3beta"
        /// Comma-separated weights, one per member (empty: equal).
        public var weights = ""
        public var fusion = Fusion.score
        /// The seed of every member that draws random numbers and gives no seed of its own.
        public var seed: UInt64 = 0
        public init() {}

        public static let settings: [ModelSetting] = [
            ModelSetting(
                "members", .text(format: "name:key=value:…,name:… (two or more models)", example: "ease,itemknn"),
                "the models fused, each with its settings"),
            ModelSetting(
                "weights", .text(format: "comma-separated numbers ≥ 0, one per member", example: "1,2"),
                "each member's weight", absentText: "equal"),
            .choice("fusion", Fusion.self, "score: weighted sum of per-user z-scores; rank: weighted 1/(60 + rank)"),
            ModelSetting("seed", .seed, "the seed of each seeded member that does not give its own"),
        ]

        public func validate(model: String) throws(ConfigError) {
            let members = try Ensemble.members(of: self)
            _ = try Ensemble.weights(of: self, count: members.count)
        }
    }

    public let config: Config
    public let userCount: Int
    public let itemCount: Int
    public let members: [any TrainableRecommender]
    let memberWeights: [Float]

    /// The members of `config`, each checked as its own model would check it.
    static func members(of config: Config) throws(ConfigError) -> [ConfiguredModel] {
        var seeded: [ConfiguredModel] = []
        for member in try parsedMembers(of: config) {
            do { seeded.append(member.isSeeded ? try member.seeded(config.seed) : member) } catch {
                throw ConfigError(model: name, key: "seed", "\(member.name): \(error)")
            }
        }
        return seeded
    }

    /// The members as `members` gives them (before the ensemble's seed).
    static func parsedMembers(of config: Config) throws(ConfigError) -> [ConfiguredModel] {
        let parts = config.members.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.count >= 2 else {
            throw ConfigError(
                model: name, key: "members", "give two or more models, e.g. ease:regularization=500,rp3beta")
        }
        var configured: [ConfiguredModel] = []
        for part in parts {
            if part.split(separator: ":").first == Substring(name) {
                throw ConfigError(model: name, key: "members", "'\(part)' does not name a model")
            }
            configured.append(try ConfiguredModel(describedAs: part, in: name, key: "members"))
        }
        return configured
    }

    /// Seeds give different ensembles when a member is seeded and gives no seed of its own.
    public static func drawsRandomNumbers(_ config: Config) -> Bool {
        (try? parsedMembers(of: config))?.contains(where: \.isSeeded) ?? true
    }

    static func weights(of config: Config, count: Int) throws(ConfigError) -> [Float] {
        guard !config.weights.trimmingCharacters(in: .whitespaces).isEmpty else {
            return [Float](repeating: 1, count: count)
        }
        let values = config.weights.split(separator: ",").map { Float($0.trimmingCharacters(in: .whitespaces)) }
        guard values.count == count, values.allSatisfy({ $0.map { $0.isFinite && $0 >= 0 } ?? false }),
            values.contains(where: { $0! > 0 })
        else {
            throw ConfigError(
                model: name, key: "weights",
                "give \(count) numbers ≥ 0 (not all 0), one per member, not \(config.weights)")
        }
        return values.map { $0! }
    }

    /// Trains every member on `train`, one after the other, each with the context's threads.
    public init(fitting train: Interactions, config: Config, context: TrainingContext) throws {
        try Self.check(config)
        let configured = try Self.members(of: config)
        var members: [any TrainableRecommender] = []
        for member in configured {
            try context.report(TrainingUpdate(step: members.count, total: configured.count))
            var memberContext = context
            memberContext.progress = nil
            members.append(try member.fit(train, context: memberContext))
        }
        self.config = config
        self.userCount = train.userCount
        self.itemCount = train.itemCount
        self.members = members
        self.memberWeights = try Self.weights(of: config, count: members.count)
    }

    public func save(into weights: inout ModelWeights) {
        for (index, member) in members.enumerated() { weights.store(member, prefix: "member\(index).") }
    }

    public init(restoring config: Config, weights: ModelWeights, userCount: Int, itemCount: Int) throws(RestoreError) {
        let configured: [ConfiguredModel]
        do { configured = try Self.members(of: config) } catch { throw RestoreError("\(error)") }
        var members: [any TrainableRecommender] = []
        for (index, member) in configured.enumerated() {
            let own = weights.unprefixed("member\(index).")
            do {
                members.append(
                    try member.type.restore(
                        config: member.config.jsonObject, weights: own, userCount: userCount, itemCount: itemCount))
            } catch {
                throw RestoreError("member \(index) (\(member.name)): \(error)")
            }
        }
        self.config = config
        self.userCount = userCount
        self.itemCount = itemCount
        self.members = members
        do { self.memberWeights = try Self.weights(of: config, count: members.count) } catch {
            throw RestoreError("\(error)")
        }
    }

    public func scores(forUsers users: [Int32]) -> Tensor {
        fuse(members.map { $0.scores(forUsers: users) }, rows: users.count)
    }

    public func scores(forHistory history: [Int32]) -> [Float] {
        fuse(members.map { Tensor(shape: [1, itemCount], scalars: $0.scores(forHistory: history)) }, rows: 1).scalars
    }

    public func scores(forHistories histories: [[Int32]]) -> Tensor {
        fuse(members.map { $0.scores(forHistories: histories) }, rows: histories.count)
    }

    /// The fused `[rows, itemCount]` scores of the members' matrices.
    func fuse(_ matrices: [Tensor], rows: Int) -> Tensor {
        let n = itemCount
        var fused = [Float](repeating: 0, count: rows * n)
        for (matrix, weight) in zip(matrices, memberWeights) where weight > 0 {
            let scalars = matrix.scalars
            for row in 0..<rows {
                let values = scalars[(row * n)..<((row + 1) * n)]
                switch config.fusion {
                case .score:
                    let mean = values.reduce(Double(0)) { $0 + Double($1) } / Double(max(n, 1))
                    let variance =
                        values.reduce(Double(0)) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(max(n, 1))
                    guard variance > 0 else { continue } // a constant row says nothing
                    let scale = Double(weight) / variance.squareRoot()
                    for (offset, value) in values.enumerated() {
                        fused[row * n + offset] += Float((Double(value) - mean) * scale)
                    }
                case .rank:
                    // Ranks by score, ties to the lower item index (the evaluators' order).
                    let order = (0..<n).sorted { a, b in
                        values[row * n + a] != values[row * n + b] ? values[row * n + a] > values[row * n + b] : a < b
                    }
                    for (rank, item) in order.enumerated() { fused[row * n + item] += weight / Float(61 + rank) }
                }
            }
        }
        return Tensor(shape: [rows, n], scalars: fused)
    }
}

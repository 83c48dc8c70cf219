import Foundation
import RecKitData
import RecKitNN
import RecKitTensor

// What the models whose user and item vectors are sums of feature embeddings share (`mfside`,
// `mixture`, `vmf`; LightFM's formulation): their losses, and training on them.

/// The loss of a feature-sum model: `bpr` and `warp` rank each positive against sampled unobserved
/// items, `logistic` classifies observed against sampled pairs, `mse` regresses ratings.
public enum SideLoss: String, Codable, Sendable, CaseIterable {
    case bpr, warp, logistic, mse
}

/// The settings of a feature-sum model: its loss and the unobserved items drawn per positive.
public protocol SideLossConfig: FeatureModelConfig {
    var loss: SideLoss { get }
    /// Unobserved items drawn per positive (0: by loss — bpr 1, warp 10, logistic 4).
    var sampleCount: Int { get }
}

extension SideLossConfig {
    public var objective: FeatureObjective { loss == .mse ? .regression : .classification }

    public var negativeCount: Int {
        guard sampleCount == 0 else { return loss == .mse ? 0 : sampleCount }
        switch loss {
        case .bpr: return 1
        case .warp: return 10
        case .logistic: return 4
        case .mse: return 0
        }
    }

    /// The ranking loss of `bpr` and `warp` over `itemCount` items; nil for the pointwise losses.
    func ranking(itemCount: Int) -> FeatureRanking? {
        switch loss {
        case .bpr: FeatureRanking(samples: negativeCount) { Loss.bpr(positive: $0, negative: $1) }
        case .warp:
            FeatureRanking(samples: negativeCount) {
                Loss.warpHinge(positive: $0, negative: $1, itemCount: itemCount)
            }
        case .logistic, .mse: nil
        }
    }
}

extension ModelSetting {
    /// A feature-sum model's settings: its own, then the loss and training settings they share.
    static func sideSum(_ own: ModelSetting...) -> [ModelSetting] { own + sideSumTraining }

    static let sideSumTraining: [ModelSetting] = [
        .choice("loss", SideLoss.self, "bpr / warp (ranking against sampled items), logistic, mse (ratings)"),
        .positiveThreshold,
        .integer("negatives", .atLeast(0), "unobserved items drawn per positive (0: bpr 1, warp 10, logistic 4)"),
        .epochs("passes over the training pairs"), .batchSize("positives per step"), .learningRate("Adam step"),
        .regularization("L2 weight decay"), .coldDropout, .seed,
    ]
}

extension FeatureModelState {
    /// Fits the columns of a feature-sum model (both sides need some) and trains its network on
    /// `config`'s loss with Adam.
    /// - Throws: `ConfigError` for sampled items with `mse`, or a side without columns.
    init<Network: FeatureNetwork>(
        fittingSides train: Interactions, side: SideData, config: some SideLossConfig, model: String,
        context: TrainingContext, network makeNetwork: (FeatureTransform) -> Network
    ) throws {
        if config.loss == .mse && config.sampleCount > 0 {
            throw ConfigError(model: model, key: "negatives", "applies to bpr, warp and logistic, not mse")
        }
        try self.init(
            fitting: train, side: side, config: config, model: model, context: context,
            ranking: config.ranking(itemCount: train.itemCount),
            check: { try FeatureModelState.requireBothSides($0, model: model) },
            network: makeNetwork, optimizer: { config.adam(for: $0) })
    }
}

/// A feature-sum model scores a batch of users against every item at once, each item's vector
/// computed once (not pair by pair).
protocol SideScoringModel: FeatureScoringModel {
    /// `[users, items]` scores for a batch of the user side's fields.
    func scores(_ users: FeatureBatch) -> Tensor
}

extension SideScoringModel {
    public func scores(forUsers users: [Int32]) -> Tensor { scores(features.users.batch(rows: users)) }

    public func scores(forUserValues values: [String: RawFeatureValue]) -> [Float] {
        scores(features.transform.encode(values: values, side: .user).batch(rows: [0])).scalars
    }

    /// Every item's row of the item side.
    var allItems: FeatureBatch { features.items.batch(rows: (0..<itemCount).map(Int32.init)) }

    /// The items whose `vectors` rows are most alike by cosine, for `similar`.
    func similarItems(to item: Int32, k: Int, vectors: Tensor) -> [ScoredIndex] {
        FactorModel(userFactors: Tensor.zeros([1, vectors.shape[1]]), itemFactors: vectors).similarItems(to: item, k: k)
    }
}

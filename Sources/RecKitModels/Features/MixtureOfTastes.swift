import Foundation
import RecKitData
import RecKitNN
import RecKitTensor

/// Mixture-of-tastes MF (Kula 2017): a user has several taste vectors and as many attention
/// vectors; for an item, a softmax over the attention vectors' dot products with the item's vector
/// weighs the tastes' dot products with it, so a user who likes both horror and children's films is
/// not forced to one average vector between them. Score = Σ_k softmax(A_u·v_i)_k (T_uk·v_i) + the
/// features' biases. Every side is a sum of feature embeddings as in `mfside` (the ID among the
/// features; a user known only by attributes gets tastes from them), with its losses. Adam; seeded,
/// single-threaded (BLAS aside).
public struct MixtureOfTastes: SideScoringModel, SideDataModel, ItemSimilarity {
    public static let name = "mixture"
    public static let summary =
        "mixture-of-tastes MF (Kula 2017): several taste vectors per user, attention over them per item"
    public static let details =
        "user and item sides are sums of feature embeddings as in `mfside`; losses bpr, warp, logistic, mse"

    public struct Config: SideLossConfig {
        public var factorCount = 32
        /// Taste (and attention) vectors per user.
        public var tasteCount = 4
        public var loss = SideLoss.warp
        public var positiveThreshold: Float = 4
        public var sampleCount = 0
        public var epochCount = 10
        public var batchSize = 256
        public var learningRate: Float = 0.005
        public var regularization: Float = 0
        public var coldDropout: Float = 0
        public var seed: UInt64 = 0
        public init() {}

        enum CodingKeys: String, CodingKey {
            case factorCount = "factors", tasteCount = "tastes", loss, positiveThreshold = "positive_threshold"
            case sampleCount = "negatives", epochCount = "epochs", batchSize = "batch_size"
            case learningRate = "learning_rate", regularization, seed, coldDropout = "cold_dropout"
        }

        public static let settings = ModelSetting.sideSum(
            .factors(.between(1, 1024), "width of every taste, attention and item vector"),
            .integer("tastes", .between(1, 64), "taste vectors per user (1: MF with side features)"))
    }

    public let config: Config
    public let state: FeatureModelState
    var objective: FeatureObjective { config.objective }

    public init(fitting train: Interactions, side: SideData, config: Config, context: TrainingContext) throws {
        try Self.check(config)
        state = try FeatureModelState(
            fittingSides: train, side: side, config: config, model: Self.name, context: context,
            network: { MixtureNetwork(config: config, transform: $0) })
        self.config = config
    }

    public init(restoring config: Config, weights: ModelWeights, userCount: Int, itemCount: Int) throws(RestoreError) {
        self.config = config
        state = try FeatureModelState(restoring: weights, userCount: userCount, itemCount: itemCount) {
            MixtureNetwork(config: config, transform: $0, trained: true).namedShapes
        }
    }

    func emptyNetwork() -> MixtureNetwork {
        MixtureNetwork(config: config, transform: features.transform, trained: true)
    }

    func scores(_ users: FeatureBatch) -> Tensor { network().scores(users, items: allItems) }

    /// The items most alike by the cosine of their vectors, for `similar`.
    public func similarItems(to item: Int32, k: Int) -> [ScoredIndex] {
        let network = network()
        return similarItems(
            to: item, k: k, vectors: GradientRecording.disabled { network.item(allItems).vectors.value })
    }
}

/// Tastes and attention per user, a vector per item, each a weighted sum of feature embeddings.
final class MixtureNetwork: FeatureNetwork {
    let bias = Variable(Tensor.zeros([1]), requiresGradient: true)
    let biases: Embedding
    let itemEmbeddings: Embedding
    /// `[features, tastes · factors]`: a user feature's taste vectors side by side (item rows unused).
    let tastes: Embedding
    let attention: Embedding
    let userFields: [Int]
    let itemFields: [Int]
    let tasteCount: Int
    let factorCount: Int

    init(config: MixtureOfTastes.Config, transform: FeatureTransform, trained: Bool = false) {
        userFields = transform.fields(of: .user)
        itemFields = transform.fields(of: .item)
        (tasteCount, factorCount) = (config.tasteCount, config.factorCount)
        let count = transform.featureCount
        let seed = config.seed
        func initializer(_ deviation: Float) -> Initializer { trained ? .zeros : .normal(deviation) }
        biases = Embedding(count, 1, initializer: .zeros, seed: seed &+ 1)
        itemEmbeddings = Embedding(count, factorCount, initializer: initializer(0.01), seed: seed &+ 2)
        tastes = Embedding(count, tasteCount * factorCount, initializer: initializer(0.01), seed: seed &+ 3)
        attention = Embedding(count, tasteCount * factorCount, initializer: initializer(0.01), seed: seed &+ 4)
    }

    var ownParameters: [NamedParameter] { [NamedParameter("bias", bias)] }
    var children: [(name: String, module: any Module)] {
        [("biases", biases), ("items", itemEmbeddings), ("tastes", tastes), ("attention", attention)]
    }

    /// The user side: tastes and attention `[n, tastes · factors]`, biases `[n, 1]`.
    func user(_ batch: FeatureBatch) -> (tastes: Variable, attention: Variable, biases: Variable) {
        let (indices, offsets, weights) = (batch.indices, batch.exampleOffsets, batch.weights)
        return (
            tastes.table.bagged(indices: indices, offsets: offsets, weights: weights),
            attention.table.bagged(indices: indices, offsets: offsets, weights: weights),
            biases.table.bagged(indices: indices, offsets: offsets, weights: weights)
        )
    }

    /// The item side: vectors `[n, factors]`, biases `[n, 1]`.
    func item(_ batch: FeatureBatch) -> (vectors: Variable, biases: Variable) {
        let (indices, offsets, weights) = (batch.indices, batch.exampleOffsets, batch.weights)
        return (
            itemEmbeddings.table.bagged(indices: indices, offsets: offsets, weights: weights),
            biases.table.bagged(indices: indices, offsets: offsets, weights: weights)
        )
    }

    func callAsFunction(_ batch: FeatureBatch) -> Variable {
        let user = user(batch.selecting(fields: userFields))
        let item = item(batch.selecting(fields: itemFields))
        let preferences = user.tastes.groupDots(with: item.vectors)
        let weights = user.attention.groupDots(with: item.vectors).softmax()
        return (weights * preferences).sum(alongAxis: 1) + user.biases + item.biases + bias
    }

    /// `[users, items]` scores: each side once, every user's tastes and attention against every item
    /// in two products, then the softmax-weighted sum per pair (no graph).
    func scores(_ users: FeatureBatch, items: FeatureBatch) -> Tensor {
        GradientRecording.disabled {
            let item = item(items)
            let user = user(users)
            let (n, m, k) = (users.exampleCount, items.exampleCount, tasteCount)
            let vectors = item.vectors.value
            let preferences = user.tastes.value.reshaped([n * k, factorCount]).matmul(vectors, transposingOther: true)
            let logits = user.attention.value.reshaped([n * k, factorCount]).matmul(vectors, transposingOther: true)
            let (userBiases, itemBiases) = (user.biases.value.scalars, item.biases.value.scalars)
            let offset = bias.value.scalars[0]
            var scores = [Float](repeating: 0, count: n * m)
            preferences.scalars.withUnsafeBufferPointer { preference in
                logits.scalars.withUnsafeBufferPointer { logit in
                    for u in 0..<n {
                        for i in 0..<m {
                            var largest = -Float.infinity
                            for t in 0..<k { largest = max(largest, logit[(u * k + t) * m + i]) }
                            var total: Float = 0
                            var weighted: Float = 0
                            for t in 0..<k {
                                let row = (u * k + t) * m + i
                                let weight = exp(logit[row] - largest)
                                total += weight
                                weighted += weight * preference[row]
                            }
                            scores[u * m + i] = weighted / total + userBiases[u] + itemBiases[i] + offset
                        }
                    }
                }
            }
            return Tensor(shape: [n, m], scalars: scores)
        }
    }
}

import Foundation
import RecKitData
import RecKitNN
import RecKitTensor

/// Neural collaborative filtering (He et al., WWW 2017): GMF (the element-wise product of user and
/// item embeddings), an MLP over the concatenated embeddings, or NeuMF (both, fused by a final
/// linear layer), trained as a binary classifier of observed pairs against `negatives` uniformly
/// sampled unobserved items per positive, by Adam on mini-batches.
///
/// Training runs on the RecKitNN engine; the trained model keeps plain tensors and scores with
/// tensor operations. One thread (BLAS aside) with a seeded sampler: a seeded run is repeatable.
public struct NeuralCF: TrainableRecommender {
    public static let name = "ncf"
    public static let summary =
        "neural collaborative filtering (He et al. 2017): GMF, MLP or NeuMF towers, BCE against sampled negatives"
    public static let details = "new users by fitting fresh user embeddings to the history"

    public enum Variant: String, Codable, Sendable, CaseIterable {
        case gmf
        case mlp
        case neumf
    }

    public struct Config: ModelConfig {
        public var variant = Variant.neumf
        /// GMF embedding width ("predictive factors").
        public var factorCount = 16
        /// MLP layer widths; the first is the concatenated user + item embedding (each half of it).
        public var layers = [64, 32, 16]
        public var epochCount = 20
        public var batchSize = 256
        public var learningRate: Float = 0.001
        /// Sampled unobserved items per observed pair.
        public var negativeCount = 4
        /// L2 weight decay (Adam's, on every parameter).
        public var regularization: Float = 0
        public var seed: UInt64 = 0
        public init() {}

        enum CodingKeys: String, CodingKey {
            case variant, factorCount = "factors", layers, epochCount = "epochs", batchSize = "batch_size"
            case learningRate = "learning_rate", negativeCount = "negatives", regularization, seed
        }

        public static let settings: [ModelSetting] = [
            .choice("variant", Variant.self, "towers: neumf (GMF + MLP), gmf or mlp"),
            .factors(.between(1, 1024), "GMF embedding width"),
            ModelSetting(
                "layers", .integers(.atLeast(1)), "MLP widths, the first split between user and item embeddings"),
            .epochs("passes over the positives"),
            .batchSize("examples per step"),
            .learningRate("Adam step"),
            .negatives("sampled unseen items per positive"),
            .regularization("L2 weight decay"),
            .seed,
        ]

        public func validate(model: String) throws(ConfigError) {
            if layers.count < 2 || layers[0] % 2 != 0 {
                throw ConfigError(
                    model: model, key: "layers", "needs at least two widths, the first even (user + item halves)")
            }
        }
    }

    public let config: Config
    /// The trained parameters by name (`gmf_user.weight`, `mlp.layers.0.weight`, `output.weight`, …).
    public let parameters: [String: Tensor]
    public let userCount: Int
    public let itemCount: Int

    /// Trains by the RecKitNN training loop; reports each epoch with its mean loss.
    public init(fitting train: Interactions, config: Config, context: TrainingContext) throws {
        try Self.check(config)
        let network = Network(config: config, userCount: train.userCount, itemCount: train.itemCount)
        let seen = InteractionMatrix.byUser(train.deduplicated(.max))
        var users: [Int32] = []
        var items: [Int32] = []
        for user in 0..<seen.rowCount {
            for item in seen.columns(inRow: user) {
                users.append(Int32(user))
                items.append(item)
            }
        }
        let optimizer = Adam(
            network.parameters.map(\.variable), learningRate: config.learningRate, weightDecay: config.regularization)
        var generator = SplitMix64(seed: config.seed)
        let sampler = NegativeSampler(itemCount: train.itemCount)
        let groupSize = 1 + config.negativeCount
        let schedule = BatchSchedule(
            exampleCount: users.count * groupSize, batchSize: config.batchSize, seed: config.seed)
        var loop = TrainingLoop(epochCount: config.epochCount)
        try loop.run(
            network, optimizer: optimizer, context: context,
            epoch: { epoch in
                // Each positive with its freshly drawn negatives (items the user has not seen).
                var exampleUsers = [Int32](repeating: 0, count: users.count * groupSize)
                var exampleItems = exampleUsers
                var labels = [Float](repeating: 0, count: users.count * groupSize)
                for (pair, user) in users.enumerated() {
                    let base = pair * groupSize
                    exampleUsers[base] = user
                    exampleItems[base] = items[pair]
                    labels[base] = 1
                    for slot in 1..<groupSize {
                        exampleUsers[base + slot] = user
                        exampleItems[base + slot] = sampler.sample(
                            excluding: { seen.contains(row: Int(user), column: $0) }, maxRedraws: 50, using: &generator)
                    }
                }
                let (batchUsers, batchItems, batchLabels) = (exampleUsers, exampleItems, labels)
                return EpochBatches(inputs: schedule.batches(epoch: epoch)) { batch in
                    LabeledPairs(
                        users: batch.map { batchUsers[$0] }, items: batch.map { batchItems[$0] },
                        labels: Tensor(shape: [batch.count, 1], scalars: batch.map { batchLabels[$0] }))
                }
            },
            loss: { batch, _ in
                Loss.binaryCrossEntropy(logits: network(users: batch.users, items: batch.items), targets: batch.labels)
            })
        self.config = config
        self.parameters = network.namedValues
        self.userCount = train.userCount
        self.itemCount = train.itemCount
    }

    public func save(into weights: inout ModelWeights) { weights.store(parameters: parameters) }

    public init(restoring config: Config, weights: ModelWeights, userCount: Int, itemCount: Int) throws(RestoreError) {
        self.config = config
        self.parameters = try weights.parameters(
            shapes: Self.parameterShapes(config, userCount: userCount, itemCount: itemCount))
        self.userCount = userCount
        self.itemCount = itemCount
    }

    /// The parameter names and shapes a model of this configuration has.
    static func parameterShapes(_ config: Config, userCount: Int, itemCount: Int) -> [String: [Int]] {
        Network(config: config, userCount: userCount, itemCount: itemCount).namedShapes
    }

    public func scores(forUsers users: [Int32]) -> Tensor {
        let network = Network(config: config, userCount: userCount, itemCount: itemCount, restoring: parameters)
        var scalars: [Float] = []
        scalars.reserveCapacity(users.count * itemCount)
        for user in users { scalars += logits(network: network, user: user) }
        return Tensor(shape: [users.count, itemCount], scalars: scalars)
    }

    /// A new user: fresh user embeddings fitted to the history (positives) against sampled items
    /// by a few Adam steps, everything else frozen; seeded by the history.
    public func scores(forHistory history: [Int32]) -> [Float] {
        let known = Array(Set(history.filter { $0 >= 0 && Int($0) < itemCount })).sorted()
        // Everything trained but the user tables, which start fresh for this one user.
        let network = Network(
            config: config, userCount: 1, itemCount: itemCount,
            restoring: parameters.filter { !$0.key.hasSuffix("user.weight") })
        guard !known.isEmpty else { return logits(network: network, user: 0) }
        let userParameters = network.parameters.filter { $0.name.hasSuffix("user.weight") }.map(\.variable)
        let optimizer = Adam(userParameters, learningRate: 0.01)
        var generator = SplitMix64(
            seed: config.seed ^ known.reduce(0xF01D) { $0 &* 31 &+ UInt64(UInt32(bitPattern: $1)) })
        let knownSet = Set(known)
        let negativeCount = config.negativeCount
        let catalogSize = self.itemCount
        // 100 full-batch steps: one "epoch" per step, its negatives drawn afresh.
        var loop = TrainingLoop(epochCount: 100)
        loop.prefetchDepth = 0 // one ready batch per step: no thread to hand it over
        _ = try? loop.run(
            network, optimizer: optimizer,
            epoch: { _ in
                var items = known
                var labels = [Float](repeating: 1, count: known.count)
                for _ in 0..<(known.count * negativeCount) {
                    let item = Int32(generator.nextIndex(below: catalogSize))
                    if knownSet.contains(item) { continue }
                    items.append(item)
                    labels.append(0)
                }
                let batch = LabeledPairs(
                    users: [Int32](repeating: 0, count: items.count), items: items,
                    labels: Tensor(shape: [items.count, 1], scalars: labels))
                return EpochBatches(inputs: [batch]) { $0 }
            },
            loss: { batch, _ in
                Loss.binaryCrossEntropy(logits: network(users: batch.users, items: batch.items), targets: batch.labels)
            })
        return logits(network: network, user: 0)
    }

    /// One user's logits for every item (no graph).
    func logits(network: Network, user: Int32) -> [Float] {
        GradientRecording.disabled {
            network(users: [Int32](repeating: user, count: itemCount), items: (0..<itemCount).map(Int32.init))
        }.value.scalars
    }
}

/// The trainable network (GMF and/or MLP towers and the output layer), as RecKitNN modules.
final class Network: Module {
    let config: NeuralCF.Config
    let gmfUser: Embedding?, gmfItem: Embedding?
    let mlpUser: Embedding?, mlpItem: Embedding?
    let mlp: MLP?
    let output: Linear

    /// A fresh network, or one about to hold `trained` values: the tables and layers found there
    /// start as zeros (no random draws to throw away) and take those values; the rest start fresh.
    init(config: NeuralCF.Config, userCount: Int, itemCount: Int, restoring trained: [String: Tensor]? = nil) {
        self.config = config
        let seed = config.seed
        func start(_ name: String, _ fresh: Initializer) -> Initializer { trained?[name] != nil ? .zeros : fresh }
        let useGMF = config.variant != .mlp
        let useMLP = config.variant != .gmf
        gmfUser =
            useGMF
            ? Embedding(
                userCount, config.factorCount, initializer: start("gmf_user.weight", .normal(0.01)), seed: seed &+ 1)
            : nil
        gmfItem =
            useGMF
            ? Embedding(
                itemCount, config.factorCount, initializer: start("gmf_item.weight", .normal(0.01)), seed: seed &+ 2)
            : nil
        let half = config.layers[0] / 2
        mlpUser =
            useMLP
            ? Embedding(userCount, half, initializer: start("mlp_user.weight", .normal(0.01)), seed: seed &+ 3) : nil
        mlpItem =
            useMLP
            ? Embedding(itemCount, half, initializer: start("mlp_item.weight", .normal(0.01)), seed: seed &+ 4) : nil
        // The hidden layers end in ReLU too: the last MLP width feeds the output layer.
        mlp =
            useMLP
            ? MLP(
                config.layers, activation: .relu, finalActivation: .relu,
                initializer: trained?["mlp.layers.0.weight"] != nil ? .zeros : nil, seed: seed &+ 5)
            : nil
        let width = (useGMF ? config.factorCount : 0) + (useMLP ? config.layers.last! : 0)
        output = Linear(width, 1, initializer: start("output.weight", .glorotUniform), seed: seed &+ 6)
        if let trained { load(trained) }
    }

    var children: [(name: String, module: any Module)] {
        var list: [(name: String, module: any Module)] = []
        if let gmfUser, let gmfItem { list += [("gmf_user", gmfUser), ("gmf_item", gmfItem)] }
        if let mlpUser, let mlpItem, let mlp { list += [("mlp_user", mlpUser), ("mlp_item", mlpItem), ("mlp", mlp)] }
        return list + [("output", output)]
    }

    func callAsFunction(users: [Int32], items: [Int32]) -> Variable {
        var parts: [Variable] = []
        if let gmfUser, let gmfItem { parts.append(gmfUser(users) * gmfItem(items)) }
        if let mlpUser, let mlpItem, let mlp {
            parts.append(mlp(Variable.concatenatingColumns([mlpUser(users), mlpItem(items)])))
        }
        return output(parts.count == 1 ? parts[0] : Variable.concatenatingColumns(parts))
    }
}

/// A batch of (user, item) pairs with 0/1 labels `[count, 1]`.
struct LabeledPairs: Sendable {
    var users: [Int32]
    var items: [Int32]
    var labels: Tensor
}

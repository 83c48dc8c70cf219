import RecKitData
import RecKitNN
import RecKitTensor

/// EDLAE, the emphasized denoising linear autoencoder in its full-rank closed form (Steck,
/// "Autoencoders that don't overfit towards the Identity", NeurIPS 2020): training a linear item-item
/// autoencoder under input dropout with probability p, with the emphasis on the dropped-out entries,
/// amounts to EASE with a popularity-scaled L2 penalty,
///
///     B = I − P·diag(1/diag P),   P = (XᵀX + Λ)⁻¹,   Λ = p/(1−p) · diag(XᵀX) + λI,
///
/// so popular items' weights are shrunk more. p = 0 is EASE with λ. Dense in items (≤ 30,000).
public struct EDLAE: TrainableRecommender, DenseItemItemModel {
    public static let name = "edlae"
    public static let summary = "EDLAE (Steck 2020): EASE trained as a denoising autoencoder with dropout emphasis"

    public struct Config: ModelConfig {
        /// p, the input dropout probability.
        public var dropout: Float = 0.25
        /// λ, the constant part of the L2 weight.
        public var regularization: Float = 10
        public init() {}
        public init(dropout: Float, regularization: Float) {
            self.dropout = dropout
            self.regularization = regularization
        }

        public static let settings: [ModelSetting] = [
            .number(
                "dropout", .from(0, below: 1), "p, the input dropout probability: Λ = p/(1−p)·diag(XᵀX) + λ"),
            .number("regularization", .atLeast(0), "λ, the constant part of the L2 weight"),
        ]
    }

    public let config: Config
    public let userCount: Int
    public let itemCount: Int
    /// `[itemCount, itemCount]`, zero diagonal.
    public let weights: Tensor
    public let history: InteractionMatrix

    /// - Throws: `ConfigError` for bad settings, a catalogue above 30,000 items, or items without
    ///   training interactions when λ is 0 (XᵀX + Λ is then singular).
    public init(fitting train: Interactions, config: Config, context: TrainingContext) throws {
        try Self.check(config)
        let n = train.itemCount
        guard n <= 30_000 else {
            throw ConfigError(
                model: Self.name, key: "items", "\(n) items need a dense \(n)×\(n) matrix; EDLAE is limited to 30000")
        }
        let byUser = InteractionMatrix.byUser(train.deduplicated(.max))
        let scale = config.dropout / (1 - config.dropout)
        self.weights = try EASE.closedForm(byUser, itemCount: n, model: Self.name) { diagonal in
            diagonal.map { scale * $0 + config.regularization }
        }
        self.config = config
        self.userCount = train.userCount
        self.itemCount = n
        self.history = byUser
    }

    public init(restoring config: Config, weights: ModelWeights, userCount: Int, itemCount: Int) throws(RestoreError) {
        self.config = config
        self.userCount = userCount
        self.itemCount = itemCount
        (self.weights, self.history) = try Self.denseTables(weights, userCount: userCount, itemCount: itemCount)
    }
}

import RecKitData
import RecKitNN
import RecKitTensor

/// EASE, the closed-form linear item-item autoencoder (Steck, "Embarrassingly Shallow Autoencoders
/// for Sparse Data", WWW 2019): B = I − P·diag(1/diag P) with P = (XᵀX + λI)⁻¹, diag(B) = 0.
/// Scores are x_u · B. Dense in items: meant for catalogues up to about 30,000 items.
public struct EASE: TrainableRecommender {
    public static let name = "ease"
    public static let summary = "EASE (Steck 2019), closed form, dense in items (≤ 30k)"

    public struct Config: ModelConfig {
        /// λ, the L2 weight on B (Steck uses a few hundred on MovieLens).
        public var regularization: Float = 500
        public init() {}
        public init(regularization: Float) { self.regularization = regularization }

        public static let settings: [ModelSetting] = [
            .number("regularization", .above(0), "λ, the L2 weight on the item-item weights")
        ]
    }

    public let config: Config
    public let userCount: Int
    public let itemCount: Int
    /// `[itemCount, itemCount]`, zero diagonal.
    public let weights: Tensor
    /// Each user's training row (binary), to score known users.
    public let history: InteractionMatrix

    /// - Throws: `ConfigError` for a bad λ or a catalogue above `maximumItemCount`.
    public init(fitting train: Interactions, config: Config, context: TrainingContext) throws {
        try self.init(fitting: train, config: config, maximumItemCount: 30_000)
    }

    /// - Throws: `ConfigError` for a bad λ or a catalogue above `maximumItemCount`.
    public init(fitting train: Interactions, config: Config = Config(), maximumItemCount: Int) throws(ConfigError) {
        try Self.check(config)
        let n = train.itemCount
        guard n <= maximumItemCount else {
            throw ConfigError(
                model: "ease", key: "items",
                "\(n) items need a dense \(n)×\(n) matrix; EASE is limited to \(maximumItemCount)")
        }
        let byUser = InteractionMatrix.byUser(train.deduplicated(.max))
        let weights = try Self.closedForm(byUser, itemCount: n, model: Self.name) { _ in
            [Float](repeating: config.regularization, count: n)
        }
        self.config = config
        self.userCount = train.userCount
        self.itemCount = n
        self.weights = weights
        self.history = byUser
    }

    public init(restoring config: Config, weights: ModelWeights, userCount: Int, itemCount: Int) throws(RestoreError) {
        self.config = config
        self.userCount = userCount
        self.itemCount = itemCount
        (self.weights, self.history) = try Self.denseTables(weights, userCount: userCount, itemCount: itemCount)
    }
}

extension EASE {
    /// The zero-diagonal closed form B = I − P·diag(1/diag P) with P = (XᵀX + Λ)⁻¹ for binary X
    /// (the users' rows of `byUser`) and the diagonal Λ that `penalty(diag XᵀX)` returns.
    /// - Throws: `ConfigError` (key `regularization`) when XᵀX + Λ is not positive definite.
    static func closedForm(
        _ byUser: InteractionMatrix, itemCount n: Int, model: String, penalty: ([Float]) -> [Float]
    ) throws(ConfigError) -> Tensor {
        // G = XᵀX (binary X), accumulated user by user.
        var gram = [Float](repeating: 0, count: n * n)
        for user in 0..<byUser.rowCount {
            let items = byUser.columns(inRow: user)
            for i in items { for j in items { gram[Int(i) * n + Int(j)] += 1 } }
        }
        let lambda = penalty((0..<n).map { gram[$0 * n + $0] })
        for i in 0..<n { gram[i * n + i] += lambda[i] }
        guard let inverse = Tensor(shape: [n, n], scalars: gram).invertedSymmetricPositiveDefinite() else {
            throw ConfigError(model: model, key: "regularization", "XᵀX + Λ is not positive definite; raise λ")
        }
        var b = inverse.scalars
        let diagonal = (0..<n).map { inverse.scalars[$0 * n + $0] }
        for i in 0..<n {
            for j in 0..<n { b[i * n + j] = i == j ? 0 : -b[i * n + j] / diagonal[j] }
        }
        return Tensor(shape: [n, n], scalars: b)
    }
}

extension EASE: DenseItemItemModel {}

/// A model scoring through a dense item × item matrix B (EASE, EDLAE): a user's scores are x_u · B
/// for the binary training row x_u.
public protocol DenseItemItemModel: Recommender, ItemSimilarity {
    /// `[itemCount, itemCount]`.
    var weights: Tensor { get }
    /// Each user's training row (scored as binary).
    var history: InteractionMatrix { get }
}

extension DenseItemItemModel {
    /// B and the training rows, as `denseTables` reads them back.
    public func save(into weights: inout ModelWeights) {
        weights.entries["weights"] = .float32(self.weights)
        weights.store(history, as: "history")
    }

    /// What `save(into:)` wrote.
    static func denseTables(_ weights: ModelWeights, userCount: Int, itemCount: Int) throws(RestoreError)
        -> (Tensor, InteractionMatrix)
    {
        (
            try weights.tensor("weights", shape: [itemCount, itemCount]),
            try weights.matrix("history", rows: userCount, columns: itemCount)
        )
    }

    public func scores(forUsers users: [Int32]) -> Tensor {
        var rows = [Float](repeating: 0, count: users.count * itemCount)
        for (row, user) in users.enumerated() where Int(user) < history.rowCount {
            for item in history.columns(inRow: Int(user)) { rows[row * itemCount + Int(item)] = 1 }
        }
        return Tensor(shape: [users.count, itemCount], scalars: rows).matmul(weights)
    }

    public func scores(forHistory items: [Int32]) -> [Float] {
        var row = [Float](repeating: 0, count: itemCount)
        for item in items where item >= 0 && Int(item) < itemCount { row[Int(item)] = 1 }
        return Tensor(shape: [1, itemCount], scalars: row).matmul(weights).scalars
    }

    /// The largest weights B[item, j]: how much having `item` raises j's score.
    public func similarItems(to item: Int32, k: Int) -> [ScoredIndex] {
        guard item >= 0 && Int(item) < itemCount else { return [] }
        return Tensor(shape: [1, itemCount], scalars: Array(weights.row(Int(item)))).topKPerRow(
            min(k, itemCount), excluding: [[item]])[0]
    }
}

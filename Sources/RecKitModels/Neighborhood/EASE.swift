import RecKitData
import RecKitTensor

/// EASE, the closed-form linear item-item autoencoder (Steck, "Embarrassingly Shallow Autoencoders
/// for Sparse Data", WWW 2019): B = I − P·diag(1/diag P) with P = (XᵀX + λI)⁻¹, diag(B) = 0.
/// Scores are x_u · B. Dense in items: meant for catalogues up to about 30,000 items.
public struct EASE: Recommender {
    public struct Config: Codable, Sendable, Equatable {
        /// λ, the L2 weight on B (Steck uses a few hundred on MovieLens).
        public var regularization: Float = 500
        public init(regularization: Float = 500) { self.regularization = regularization }

        public func validate() throws(ConfigError) {
            if !(regularization > 0) || !regularization.isFinite {
                throw ConfigError(model: "ease", key: "regularization", "must be > 0")
            }
        }
    }

    public let config: Config
    public let userCount: Int
    public let itemCount: Int
    /// `[itemCount, itemCount]`, zero diagonal.
    public let weights: Tensor
    /// Each user's training row (binary), to score known users.
    let history: InteractionMatrix
    public var name: String { "ease" }

    /// - Throws: `ConfigError` for a bad λ or a catalogue above `maximumItemCount`.
    public init(fitting train: Interactions, config: Config = Config(), maximumItemCount: Int = 30_000) throws(ConfigError) {
        try config.validate()
        let n = train.itemCount
        guard n <= maximumItemCount else {
            throw ConfigError(model: "ease", key: "items", "\(n) items need a dense \(n)×\(n) matrix; EASE is limited to \(maximumItemCount)")
        }
        let byUser = InteractionMatrix.byUser(train.deduplicated(.max))
        // G = XᵀX (binary X) + λI, accumulated user by user.
        var gram = [Float](repeating: 0, count: n * n)
        for user in 0..<byUser.rowCount {
            let items = byUser.columns(inRow: user)
            for i in items { for j in items { gram[Int(i) * n + Int(j)] += 1 } }
        }
        for i in 0..<n { gram[i * n + i] += config.regularization }
        guard let inverse = Tensor(shape: [n, n], scalars: gram).invertedSymmetricPositiveDefinite() else {
            throw ConfigError(model: "ease", key: "regularization", "XᵀX + λI is not positive definite; raise λ")
        }
        var b = inverse.scalars
        let diagonal = (0..<n).map { inverse.scalars[$0 * n + $0] }
        for i in 0..<n {
            for j in 0..<n { b[i * n + j] = i == j ? 0 : -b[i * n + j] / diagonal[j] }
        }
        self.config = config
        self.userCount = train.userCount
        self.itemCount = n
        self.weights = Tensor(shape: [n, n], scalars: b)
        self.history = byUser
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
}

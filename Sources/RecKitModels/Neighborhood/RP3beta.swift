import Foundation
import RecKitData
import RecKitNN
import RecKitTensor

/// RP3beta (Paudel, Christoffel, Newell and Bernstein 2016, "Updatable, accurate, diverse, and
/// scalable recommendations for interactive applications"): item-item weights from a three-step
/// random walk user → item → user → item on the binary interaction graph, each transition
/// probability raised to α, divided by the target item's popularity to the power β:
///
///     W[i, j] = deg(i)^−α · Σ_u x_ui · deg(u)^−α · x_uj · deg(j)^−β,   i ≠ j,
///
/// as the evaluation study of Dacrema et al. (2019) implements it: each item keeps its K largest
/// weights, then (`normalize`, their default) its row is scaled to sum to 1. Scores are x_u · W.
/// Built sparse, in parallel, from the co-occurrences (`NeighbourIndex` with directed scales).
public struct RP3beta: TrainableRecommender, ItemItemModel {
    public static let name = "rp3beta"
    public static let summary = "RP3beta (Paudel et al. 2016): random-walk item-item weights with a popularity penalty"

    public struct Config: ModelConfig {
        /// Neighbours kept per item (the item itself never).
        public var neighbourCount = 100
        /// α, the power of each transition probability.
        public var alpha: Float = 1
        /// β, the power of the target item's degree that divides its weight.
        public var beta: Float = 0.6
        /// Scale each item's kept weights to sum to 1.
        public var normalize = true
        public init() {}

        enum CodingKeys: String, CodingKey {
            case neighbourCount = "neighbors", alpha, beta, normalize
        }

        public static let settings: [ModelSetting] = [
            .integer("neighbors", .atLeast(1), "weights kept per item (largest first)", aliases: ["k"]),
            .number("alpha", .atLeast(0), "α, the power of each transition probability (1: the plain walk)"),
            .number("beta", .atLeast(0), "β: a target item's weight is divided by its degree^β (popularity penalty)"),
            .boolean("normalize", "scale each item's kept weights to sum to 1"),
        ]
    }

    public let config: Config
    public let userCount: Int
    public let itemCount: Int
    /// Row i: item i's kept neighbours j with W[i, j].
    public let neighbours: InteractionMatrix
    /// Each user's binary training row.
    public let history: InteractionMatrix

    /// Builds the weights on all cores unless the context says otherwise (threads never change them).
    public init(fitting train: Interactions, config: Config, context: TrainingContext) throws {
        try Self.check(config)
        let byUser = InteractionMatrix.byUser(train.deduplicated(.max)).binarized()
        let byItem = byUser.transposed()
        let userDegrees = (0..<byUser.rowCount).map { Float(byUser.count(inRow: $0)) }
        let itemDegrees = (0..<byItem.rowCount).map { Float(byItem.count(inRow: $0)) }
        // y_i[u] = x_ui · deg(u)^(−α/2), so y_i · y_j = Σ_u x_ui x_uj deg(u)^−α.
        var walk = [Float](repeating: 0, count: byItem.nonzeroCount)
        for position in walk.indices {
            walk[position] = Self.power(userDegrees[Int(byItem.columnIndices[position])], -config.alpha / 2)
        }
        let scales = NeighbourIndex.Scales(
            row: itemDegrees.map { Self.power($0, -config.alpha) },
            candidate: itemDegrees.map { Self.power($0, -config.beta) })
        var neighbours = NeighbourIndex.build(
            rows: byItem.replacingValues(walk), k: config.neighbourCount, cosine: false, shrinkage: 0,
            threadCount: context.threads(default: Parallel.defaultThreadCount), scales: scales, includingSelf: false)
        if config.normalize { neighbours = neighbours.rowsScaledToUnitSum() }
        self.config = config
        self.userCount = train.userCount
        self.itemCount = train.itemCount
        self.neighbours = neighbours
        self.history = byUser
    }

    /// d^p for a degree, 0 for an item or user without interactions (as the reference does).
    static func power(_ degree: Float, _ exponent: Float) -> Float {
        degree > 0 ? Float(pow(Double(degree), Double(exponent))) : 0
    }

    public init(restoring config: Config, weights: ModelWeights, userCount: Int, itemCount: Int) throws(RestoreError) {
        self.config = config
        self.userCount = userCount
        self.itemCount = itemCount
        (neighbours, history) = try weights.neighbourhood(rows: itemCount, userCount: userCount, itemCount: itemCount)
    }
}

extension InteractionMatrix {
    /// Each row divided by the sum of its absolute values (rows summing to 0 unchanged).
    func rowsScaledToUnitSum() -> InteractionMatrix {
        var values = self.values
        for row in 0..<rowCount {
            let range = rowOffsets[row]..<rowOffsets[row + 1]
            let total = values[range].reduce(Float(0)) { $0 + abs($1) }
            guard total > 0 else { continue }
            for position in range { values[position] /= total }
        }
        return replacingValues(values)
    }
}

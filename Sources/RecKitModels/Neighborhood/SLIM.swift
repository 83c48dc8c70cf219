import RecKitData
import RecKitNN
import RecKitTensor

/// SLIM (Ning and Karypis 2011, "SLIM: Sparse Linear Methods for Top-N Recommender Systems"):
/// a sparse, non-negative item-item matrix W with zero diagonal, column by column an elastic net
///
///     min_{w ≥ 0, w_j = 0}  1/(2n) ‖x_j − X w‖² + α·ρ ‖w‖₁ + α(1−ρ)/2 ‖w‖²
///
/// over the binary user × item matrix X (n users), the form scikit-learn's `ElasticNet(alpha,
/// l1_ratio, positive=True, fit_intercept=False)` solves and the evaluation study of Dacrema et al.
/// (2019) runs per item. Each column keeps its `neighbors` largest weights; scores are x_u · W.
///
/// Solved column by column: only items that co-occur with j can get a positive weight (a
/// coordinate's gradient X_kᵀ(x_j − Xw) is never positive when X_kᵀx_j = 0), so each column is a small
/// problem over its co-occurring items. Full sweeps of cyclic coordinate descent run on the residual
/// over users (as scikit-learn's solver does); once a sweep leaves the set of non-zero weights
/// unchanged, the problem on that set is solved exactly (Cholesky on its block of the Gram matrix
/// G = XᵀX, kept sparse), and the next full sweep checks that no other weight enters (glmnet's
/// active-set strategy). A column stops when a full sweep moves no weight more than `tolerance` ×
/// its largest. Columns are independent: solved in parallel, the result does not depend on the
/// thread count.
public struct SLIM: TrainableRecommender, ItemItemModel {
    public static let name = "slim"
    public static let summary = "SLIM (Ning and Karypis 2011): sparse non-negative item weights by elastic net"

    public struct Config: ModelConfig {
        /// α, the elastic net's overall penalty (scikit-learn's `alpha`).
        public var alpha: Float = 0.01
        /// ρ, the L1 share of the penalty (scikit-learn's `l1_ratio`).
        public var l1Ratio: Float = 0.1
        /// Weights kept per column (the largest).
        public var neighbourCount = 100
        /// Stop a column when no weight moved more than this × its largest weight in a sweep (at
        /// least 1e-6: below that, rounding moves weights more than the criterion allows).
        public var tolerance: Float = 0.0001
        /// Most full sweeps per column (scikit-learn's `max_iter`); after each, at most as many sweeps
        /// over the non-zero weights alone.
        public var maximumIterations = 100
        public init() {}

        enum CodingKeys: String, CodingKey {
            case alpha, l1Ratio = "l1_ratio", neighbourCount = "neighbors", tolerance,
                maximumIterations = "max_iterations"
        }

        public static let settings: [ModelSetting] = [
            .number("alpha", .above(0), "α, the elastic net's overall penalty (scikit-learn's alpha)"),
            .number("l1_ratio", .between(0, 1), "ρ, the L1 share of the penalty (1: lasso)"),
            .integer("neighbors", .atLeast(1), "weights kept per item column (largest first)", aliases: ["k"]),
            .number(
                "tolerance", .atLeast(0.000001),
                "stop when no weight moves more than this × the column's largest (finer is rounding noise)"),
            .integer(
                "max_iterations", .atLeast(1),
                "most full coordinate-descent sweeps per column (each then settles the non-zero weights)"),
        ]
    }

    public let config: Config
    public let userCount: Int
    public let itemCount: Int
    /// Row i: the items j with W[i, j] > 0.
    public let neighbours: InteractionMatrix
    /// Each user's binary training row.
    public let history: InteractionMatrix

    /// Solves the columns on all cores unless the context says otherwise (threads never change W).
    public init(fitting train: Interactions, config: Config, context: TrainingContext) throws {
        try Self.check(config)
        let byUser = InteractionMatrix.byUser(train.deduplicated(.max)).binarized()
        let n = train.itemCount
        let threadCount = context.threads(default: Parallel.defaultThreadCount)
        let gram = Self.gram(byUser, threadCount: threadCount)
        let users = Float(byUser.rowCount)
        let problem = ElasticNetColumns(
            gram: gram, byItem: byUser.transposed(), l1: config.alpha * config.l1Ratio * users,
            l2: config.alpha * (1 - config.l1Ratio) * users,
            tolerance: config.tolerance, maximumIterations: config.maximumIterations)
        let chunks = Parallel.chunks(count: n, chunkCount: min(n, 256))
        let solved = Parallel.map(chunkCount: chunks.count, threadCount: threadCount) { chunk in
            var scratch = ElasticNetColumns.Scratch(itemCount: n, userCount: byUser.rowCount)
            var triples: [(row: Int32, column: Int32, weight: Float)] = []
            for column in chunks[chunk] {
                let weights = problem.solve(column: column, scratch: &scratch)
                    .sorted { $0.weight != $1.weight ? $0.weight > $1.weight : $0.item < $1.item }
                    .prefix(config.neighbourCount)
                for entry in weights { triples.append((entry.item, Int32(column), entry.weight)) }
            }
            return triples
        }
        self.neighbours = Self.matrix(rows: n, triples: solved.flatMap { $0 })
        self.config = config
        self.userCount = train.userCount
        self.itemCount = n
        self.history = byUser
    }

    /// G = XᵀX of the binary rows, sparse (item × item, the diagonal included).
    static func gram(_ byUser: InteractionMatrix, threadCount: Int) -> InteractionMatrix {
        let byItem = byUser.transposed()
        let n = byItem.rowCount
        let chunks = Parallel.chunks(count: n, chunkCount: min(max(n, 1), 64))
        let rows = Parallel.map(chunkCount: chunks.count, threadCount: threadCount) { chunk in
            var counts = [Float](repeating: 0, count: n)
            var touched: [Int32] = []
            var pieces: [(columns: [Int32], values: [Float])] = []
            for item in chunks[chunk] {
                for user in byItem.columns(inRow: item) {
                    for other in byUser.columns(inRow: Int(user)) {
                        if counts[Int(other)] == 0 { touched.append(other) }
                        counts[Int(other)] += 1
                    }
                }
                touched.sort()
                pieces.append((touched, touched.map { counts[Int($0)] }))
                for other in touched { counts[Int(other)] = 0 }
                touched.removeAll(keepingCapacity: true)
            }
            return pieces
        }
        var offsets = [0]
        var columns: [Int32] = []
        var values: [Float] = []
        for piece in rows.joined() {
            columns += piece.columns
            values += piece.values
            offsets.append(columns.count)
        }
        return try! InteractionMatrix( // built row by row above; the checks cannot fail
            rowCount: n, columnCount: n, rowOffsets: offsets, columnIndices: columns, values: values)
    }

    /// The CSR matrix of (row, column, value) triples, rows' columns ascending.
    static func matrix(rows: Int, triples: [(row: Int32, column: Int32, weight: Float)]) -> InteractionMatrix {
        let sorted = triples.sorted { $0.row != $1.row ? $0.row < $1.row : $0.column < $1.column }
        var offsets = [Int](repeating: 0, count: rows + 1)
        for triple in sorted { offsets[Int(triple.row) + 1] += 1 }
        for row in 0..<rows { offsets[row + 1] += offsets[row] }
        return try! InteractionMatrix( // sorted by row then column: the checks cannot fail
            rowCount: rows, columnCount: rows, rowOffsets: offsets, columnIndices: sorted.map(\.column),
            values: sorted.map(\.weight))
    }

    public init(restoring config: Config, weights: ModelWeights, userCount: Int, itemCount: Int) throws(RestoreError) {
        self.config = config
        self.userCount = userCount
        self.itemCount = itemCount
        (neighbours, history) = try weights.neighbourhood(rows: itemCount, userCount: userCount, itemCount: itemCount)
    }
}

/// The per-column non-negative elastic nets of SLIM, in the unscaled form
/// ½‖x_j − Xw‖² + l1 ‖w‖₁ + ½ l2 ‖w‖² (scikit-learn's 1/(2n) form times n), by cyclic coordinate
/// descent in two spaces (glmnet's active-set strategy): a full sweep over the candidates keeps a
/// residual over users (a coordinate costs its item's interactions, as scikit-learn's sparse solver
/// does), then sweeps over the non-zero weights alone use their dense Gram block (a coordinate
/// costs the active count), until they settle; the next full sweep checks that no other weight
/// enters. Gradients are recomputed, not accumulated, and summed in Double (weights stay Float32), so
/// rounding neither drifts nor keeps a column from settling.
struct ElasticNetColumns: Sendable {
    let gram: InteractionMatrix
    /// Item × user, binary: each item's users.
    let byItem: InteractionMatrix
    let l1: Float
    let l2: Float
    let tolerance: Float
    let maximumIterations: Int

    /// The most non-zero weights a column solves exactly (a 512² system: about 22M multiply-adds).
    static let largestExactSolve = 512

    /// Per-thread work space.
    struct Scratch {
        /// Each item's slot among the active weights, −1 elsewhere.
        var slot: [Int32]
        /// x_j − X w over users (in Double, so that sweeps can settle below Float32 noise).
        var residual: [Double]
        init(itemCount: Int, userCount: Int) {
            slot = [Int32](repeating: -1, count: itemCount)
            residual = [Double](repeating: 0, count: userCount)
        }
    }

    /// Column `j`'s positive weights, by item.
    func solve(column j: Int, scratch: inout Scratch) -> [(item: Int32, weight: Float)] {
        // The candidates: items co-occurring with j (no other can get a positive weight), j excluded.
        var candidates: [Int32] = []
        var targets: [Float] = [] // G_kj
        for (item, count) in zip(gram.columns(inRow: j), gram.values(inRow: j)) where Int(item) != j {
            candidates.append(item)
            targets.append(count)
        }
        guard targets.contains(where: { $0 > l1 }) else { return [] }
        var weights = [Float](repeating: 0, count: candidates.count)
        func resetResidual() {
            for user in 0..<scratch.residual.count { scratch.residual[user] = 0 }
            for user in byItem.columns(inRow: j) { scratch.residual[Int(user)] = 1 }
        }
        resetResidual()
        var sweeps = 0
        while sweeps < maximumIterations {
            // A full sweep over the candidates on the residual.
            var change: Float = 0
            var supportChanged = false
            // Raw pointers: this loop runs Σ_candidates interactions per sweep, free of slices and checks.
            byItem.rowOffsets.withUnsafeBufferPointer { offsets in
                byItem.columnIndices.withUnsafeBufferPointer { userIndices in
                    scratch.residual.withUnsafeMutableBufferPointer { residual in
                        for (slot, item) in candidates.enumerated() {
                            let users = offsets[Int(item)]..<offsets[Int(item) + 1]
                            var gradient: Double = 0
                            for position in users { gradient += residual[Int(userIndices[position])] }
                            let old = weights[slot]
                            let degree = Float(users.count)
                            let new = max(0, Float(gradient) + degree * old - l1) / (degree + l2)
                            guard new != old else { continue }
                            weights[slot] = new
                            let delta = Double(new - old)
                            for position in users { residual[Int(userIndices[position])] -= delta }
                            change = max(change, abs(new - old))
                            if (old == 0) != (new == 0) { supportChanged = true }
                        }
                    }
                }
            }
            sweeps += 1
            if change <= tolerance * (weights.max() ?? 0) { break }
            // Once a full sweep leaves the non-zero set as it was, solve on it exactly, then take
            // the residual afresh; while it still changes, full sweeps are cheaper than solves. So
            // are they for a large non-zero set (near-ridge settings), whose dense solve costs
            // |A|³/6 against a sweep's interactions of the candidates: those columns settle by sweeps.
            if supportChanged { continue }
            let active = weights.indices.filter { weights[$0] > 0 }
            if active.count > Self.largestExactSolve { continue }
            settle(
                active: active.map { candidates[$0] }, targets: active.map { targets[$0] }, weights: &weights,
                at: active, scratch: &scratch)
            resetResidual()
            for slot in active where weights[slot] > 0 {
                for user in byItem.columns(inRow: Int(candidates[slot])) {
                    scratch.residual[Int(user)] -= Double(weights[slot])
                }
            }
        }
        return candidates.indices.compactMap { weights[$0] > 0 ? (candidates[$0], weights[$0]) : nil }
    }

    /// Solves the problem restricted to `items` (weights at `positions` of `weights`, all positive)
    /// exactly on their dense Gram block: (G_AA + l2 I) w = G_Aj − l1 by Cholesky in double precision;
    /// the weights the solve makes non-positive are set to zero and the rest solved again, until all
    /// are positive. When the block is singular (l2 = 0 with duplicate items), coordinate descent on
    /// it instead.
    private func settle(
        active items: [Int32], targets: [Float], weights: inout [Float], at positions: [Int], scratch: inout Scratch
    ) {
        let count = items.count
        guard count > 0 else { return }
        let block = gramBlock(items, scratch: &scratch)
        var current = [Double](repeating: 0, count: count)
        var free = Array(0..<count)
        var solved = false
        while !free.isEmpty {
            let n = free.count
            var matrix = [Double](repeating: 0, count: n * n)
            for (row, a) in free.enumerated() {
                for (column, b) in free.enumerated() { matrix[row * n + column] = Double(block[a * count + b]) }
                matrix[row * n + row] += Double(l2)
            }
            guard let z = LinearSolve.symmetricPositiveDefinite(matrix, n: n, free.map { Double(targets[$0] - l1) })
            else { break }
            if z.allSatisfy({ $0 > 0 }) {
                for (slot, a) in free.enumerated() { current[a] = z[slot] }
                solved = true
                break
            }
            // Every weight the solve makes non-positive leaves at once (one solve per round, not one
            // per leaving weight as Lawson and Hanson's method would); the next full sweep brings back
            // any that should not have left.
            free = free.enumerated().filter { z[$0.offset] > 0 }.map(\.element)
        }
        if solved || free.isEmpty {
            for (slot, position) in positions.enumerated() { weights[position] = Float(current[slot]) }
            return
        }
        descend(block: block, targets: targets, weights: &weights, at: positions)
    }

    /// G restricted to `items` (ascending), dense: each row read from its sparse Gram row by a scan
    /// when that row is short, else by a binary search per item (a popular item's row is thousands long).
    private func gramBlock(_ items: [Int32], scratch: inout Scratch) -> [Float] {
        let count = items.count
        for (slot, item) in items.enumerated() { scratch.slot[Int(item)] = Int32(slot) }
        defer { for item in items { scratch.slot[Int(item)] = -1 } }
        var block = [Float](repeating: 0, count: count * count)
        let searchCost = count * (Int.bitWidth - count.leadingZeroBitCount + 1)
        gram.columnIndices.withUnsafeBufferPointer { columns in
            gram.values.withUnsafeBufferPointer { values in
                for (row, item) in items.enumerated() {
                    let start = gram.rowOffsets[Int(item)]
                    let end = gram.rowOffsets[Int(item) + 1]
                    if end - start <= searchCost {
                        for position in start..<end {
                            let column = scratch.slot[Int(columns[position])]
                            if column >= 0 { block[row * count + Int(column)] = values[position] }
                        }
                        continue
                    }
                    var low = start
                    for (column, other) in items.enumerated() { // ascending: each search starts where the last ended
                        var high = end
                        while low < high {
                            let middle = (low + high) / 2
                            if columns[middle] < other { low = middle + 1 } else { high = middle }
                        }
                        if low < end && columns[low] == other { block[row * count + column] = values[low] }
                    }
                }
            }
        }
        return block
    }

    /// Coordinate descent on a dense Gram block until no weight moves more than `tolerance` × the
    /// largest (at most `maximumIterations` sweeps).
    private func descend(block: [Float], targets: [Float], weights: inout [Float], at positions: [Int]) {
        let count = positions.count
        var w = positions.map { weights[$0] }
        var sweeps = 0
        block.withUnsafeBufferPointer { block in
            while sweeps < maximumIterations {
                var change: Float = 0
                for row in 0..<count {
                    let base = row * count
                    var fitted: Double = 0 // (G w)_row, summed in Double so sweeps can settle below Float32 noise
                    for column in 0..<count { fitted += Double(block[base + column] * w[column]) }
                    let diagonal = block[base + row]
                    let old = w[row]
                    let gradient = Float(Double(targets[row]) - fitted) + diagonal * old
                    let new = max(0, gradient - l1) / (diagonal + l2)
                    w[row] = new
                    change = max(change, abs(new - old))
                }
                sweeps += 1
                if change <= tolerance * (w.max() ?? 0) { break }
            }
        }
        for (slot, position) in positions.enumerated() { weights[position] = w[slot] }
    }
}

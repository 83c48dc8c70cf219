import Foundation
import RecKitData
import RecKitNN
import RecKitTensor

extension BiasedMF {
    /// Alternating exact ridge solves; see the type's documentation.
    static func trainALS(
        _ train: Interactions, ratings: [Float], mean: Float, config: Config, state: inout SGDState, threadCount: Int,
        context: TrainingContext
    ) throws(FitError) {
        guard
            let rated = try? Interactions(
                users: train.users, items: train.items, ratings: ratings, userCount: train.userCount,
                itemCount: train.itemCount)
        else { preconditionFailure("the training data's own columns are valid") }
        let byUser = InteractionMatrix.byUser(rated)
        let byItem = InteractionMatrix.byItem(rated)
        for iteration in 0..<config.epochCount {
            ridgeSweep(
                solving: &state.p, biases: &state.userBiases, fixed: state.q, fixedBiases: state.itemBiases,
                matrix: byUser,
                mean: mean, config: config, threadCount: threadCount)
            ridgeSweep(
                solving: &state.q, biases: &state.itemBiases, fixed: state.p, fixedBiases: state.userBiases,
                matrix: byItem,
                mean: mean, config: config, threadCount: threadCount)
            try context.report(TrainingUpdate(step: iteration + 1, total: config.epochCount))
        }
    }

    /// For every row r:
    /// [x_r, b_r] = argmin Σ_j (v_rj − μ − b_j − x_r·y_j − b_r)² + λ·n_r(‖x_r‖² + b_r²).
    static func ridgeSweep(
        solving target: inout [Float], biases: inout [Float], fixed: [Float], fixedBiases: [Float],
        matrix: InteractionMatrix,
        mean: Float, config: Config, threadCount: Int
    ) {
        let k = config.factorCount
        let n = k + 1
        let chunks = Parallel.chunks(count: matrix.rowCount, chunkCount: max(1, min(matrix.rowCount, threadCount * 16)))
        target.withUnsafeMutableBufferPointer { targetBuffer in
            biases.withUnsafeMutableBufferPointer { biasBuffer in
                let output = RowOutput(factors: targetBuffer.baseAddress!, biases: biasBuffer.baseAddress!)
                Parallel.forEach(chunkCount: chunks.count, threadCount: threadCount) { chunk in
                    var a = [Double](repeating: 0, count: n * n)
                    var b = [Double](repeating: 0, count: n)
                    for row in chunks[chunk] {
                        let range = matrix.rowOffsets[row]..<matrix.rowOffsets[row + 1]
                        if range.isEmpty { continue }
                        // The row's features [y_j, 1] as columns of Xᵀ (n × count): A = XᵀX and b = Xᵀt are
                        // dot products of contiguous rows. (BLAS here would start its own threads
                        // inside ours for every row.)
                        let count = range.count
                        var transposed = [Float](repeating: 1, count: n * count)
                        var targets = [Float](repeating: 0, count: count)
                        for (slot, position) in range.enumerated() {
                            let j = Int(matrix.columnIndices[position])
                            for f in 0..<k { transposed[f * count + slot] = fixed[j * k + f] }
                            targets[slot] = matrix.values[position] - mean - fixedBiases[j]
                        }
                        var products = [Float](repeating: 0, count: n)
                        transposed.withUnsafeBufferPointer { xt in
                            products.withUnsafeMutableBufferPointer { out in
                                let rows = xt.baseAddress!
                                for r in 0..<n {
                                    VectorKernels.dots(
                                        rows: rows, rowCount: r + 1, vector: rows + r * count, count: count,
                                        into: out.baseAddress!)
                                    for c in 0...r { a[r * n + c] = Double(out[c]) }
                                }
                                targets.withUnsafeBufferPointer { t in
                                    VectorKernels.dots(
                                        rows: rows, rowCount: n, vector: t.baseAddress!, count: count,
                                        into: out.baseAddress!)
                                }
                            }
                        }
                        for f in 0..<n { b[f] = Double(products[f]) }
                        let penalty = Double(config.regularization) * Double(range.count)
                        for f in 0..<n { a[f * n + f] += penalty }
                        a.withUnsafeMutableBufferPointer { a in
                            b.withUnsafeMutableBufferPointer { b in Cholesky.solve(a.baseAddress!, b.baseAddress!, n: n)
                            }
                        }
                        for f in 0..<k { output.factors[row * k + f] = Float(b[f]) }
                        output.biases[row] = Float(b[k])
                    }
                }
            }
        }
    }
}

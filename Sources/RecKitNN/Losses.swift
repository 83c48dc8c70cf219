import Foundation
import RecKitTensor

/// Loss functions: each returns a scalar variable (the mean over the batch unless stated).
///
/// Pairwise and listwise ranking losses take `positive` scores `[b]` (or `[b, 1]`) and `negative`
/// scores `[b, s]` (s sampled items per example).
public enum Loss {
    /// Mean squared error against constant targets.
    public static func meanSquaredError(_ prediction: Variable, _ target: Tensor) -> Variable {
        (prediction - Variable(target)).squared().mean()
    }

    /// Binary cross-entropy of logits against 0/1 (or soft) targets, stable for any logit:
    /// max(x, 0) − x·y + log(1 + e^−|x|); gradient (σ(x) − y) / n.
    public static func binaryCrossEntropy(logits: Variable, targets: Tensor) -> Variable {
        precondition(
            logits.shape == targets.shape, "binaryCrossEntropy: logits \(logits.shape), targets \(targets.shape)")
        let x = logits.value.scalars
        let y = targets.scalars
        var total = 0.0
        for index in x.indices {
            total += Double(max(x[index], 0) - x[index] * y[index] + Foundation.log1p(Foundation.exp(-abs(x[index]))))
        }
        let n = Float(max(1, x.count))
        return Variable.result(Tensor(scalar: Float(total) / n), [logits]) { g, inputs in
            let scale = g.scalar / n
            inputs[0].accumulate(
                Tensor(shape: targets.shape, scalars: x.indices.map { (Activation.sigmoid(x[$0]) - y[$0]) * scale }))
        }
    }

    /// Softmax cross-entropy of logits `[b, c]` against class indices; gradient (softmax − onehot) / b.
    public static func softmaxCrossEntropy(logits: Variable, labels: [Int32]) -> Variable {
        precondition(
            logits.value.rank == 2 && logits.shape[0] == labels.count,
            "softmaxCrossEntropy: logits \(logits.shape), \(labels.count) labels")
        let classes = logits.shape[1]
        let batch = labels.count
        let logProbabilities = logits.value.logSoftmaxAlongLastAxis()
        var total = 0.0
        for (row, label) in labels.enumerated() {
            precondition(label >= 0 && Int(label) < classes, "label \(label) of \(classes) classes")
            total -= Double(logProbabilities.scalars[row * classes + Int(label)])
        }
        let n = Float(max(1, batch))
        return Variable.result(Tensor(scalar: Float(total) / n), [logits]) { g, inputs in
            var gradient = logProbabilities.map { Foundation.exp($0) }
            for (row, label) in labels.enumerated() { gradient.scalars[row * classes + Int(label)] -= 1 }
            inputs[0].accumulate(gradient * (g.scalar / n))
        }
    }

    /// Sampled softmax (Jean et al. 2015; Yi et al. 2019 for recommendation): logits `[b, 1 + s]`
    /// of the true item (column 0) and s sampled items, each corrected by subtracting log Q, the
    /// log-probability that the sampler draws that item, so that the estimate is unbiased for
    /// popular-item samplers.
    public static func sampledSoftmaxCrossEntropy(logits: Variable, logQ: Tensor) -> Variable {
        precondition(
            logits.shape == logQ.shape, "sampledSoftmaxCrossEntropy: logits \(logits.shape), log Q \(logQ.shape)")
        return softmaxCrossEntropy(
            logits: logits - Variable(logQ), labels: [Int32](repeating: 0, count: logits.shape[0]))
    }

    /// Multinomial log-likelihood of Mult-VAE (Liang et al. 2018): −mean_b Σ_i x_bi · log softmax(z_b)_i.
    ///
    /// One fused op (the logits are often [batch, whole catalogue]): per row, Σ c·x − (Σ c)·logΣexp x
    /// in the forward pass, and the gradient (Σ c)·softmax(x) − c, scaled by −1/batch, in the backward.
    public static func multinomialLogLikelihood(logits: Variable, counts: Tensor) -> Variable {
        precondition(
            logits.value.rank == 2 && logits.shape == counts.shape,
            "multinomialLogLikelihood: logits \(logits.shape), counts \(counts.shape)")
        let x = logits.value
        let batch = Float(max(1, x.shape[0]))
        let totals = counts.sum(alongAxis: -1)
        let likelihoods = x.rowDots(counts) - x.logSumExpAlongLastAxis() * totals
        return Variable.result(Tensor(scalar: -likelihoods.sum() / batch), [logits]) { g, inputs in
            inputs[0].accumulate((x.softmaxAlongLastAxis() * totals - counts) * (g.scalar / batch))
        }
    }

    /// KL(N(μ, σ²) ‖ N(0, 1)) summed over dimensions, mean over the batch:
    /// −½ Σ (1 + log σ² − μ² − σ²).
    /// One operation: the value and both gradients (∂/∂μ = μ / n, ∂/∂log σ² = ½ (σ² − 1) / n for
    /// n rows) in single passes, σ² computed once.
    public static func gaussianKL(mean: Variable, logVariance: Variable) -> Variable {
        precondition(
            mean.shape == logVariance.shape, "gaussianKL: mean \(mean.shape), log-variance \(logVariance.shape)")
        let count = mean.value.scalarCount
        let rows = Float(max(1, count / max(1, mean.shape.last ?? 1)))
        var variances = [Float](repeating: 0, count: count)
        var total: Float = 0
        mean.value.scalars.withUnsafeBufferPointer { mu in
            logVariance.value.scalars.withUnsafeBufferPointer { logVar in
                variances.withUnsafeMutableBufferPointer { variance in
                    for index in 0..<count {
                        let sigma2 = Foundation.exp(logVar[index])
                        variance[index] = sigma2
                        total += 1 + logVar[index] - mu[index] * mu[index] - sigma2
                    }
                }
            }
        }
        return Variable.result(Tensor(scalar: -0.5 * total / rows), [mean, logVariance]) { g, inputs in
            let scale = g.scalar / rows
            if inputs[0].requiresGradient { inputs[0].accumulate(inputs[0].value * scale) }
            if inputs[1].requiresGradient {
                inputs[1].accumulate(
                    Tensor(shape: inputs[1].shape, scalars: variances.map { 0.5 * scale * ($0 - 1) }))
            }
        }
    }

    /// BPR: −mean log σ(x⁺ − x⁻), over every (positive, negative) pair.
    public static func bpr(positive: Variable, negative: Variable) -> Variable {
        -(column(positive) - negative).logSigmoid().mean()
    }

    /// TOP1 (Hidasi et al. 2016): mean σ(x⁻ − x⁺) + σ(x⁻²).
    public static func top1(positive: Variable, negative: Variable) -> Variable {
        ((negative - column(positive)).sigmoid() + negative.squared().sigmoid()).mean()
    }

    /// BPR-max (Hidasi and Karatzoglou 2018): −log Σ_j s_j σ(x⁺ − x_j) + λ Σ_j s_j x_j², with s the
    /// softmax of the negative scores; mean over the batch.
    public static func bprMax(positive: Variable, negative: Variable, regularization: Float = 1) -> Variable {
        let weights = negative.softmax()
        let ranking = (weights * (column(positive) - negative).sigmoid()).sum(alongAxis: -1).log()
        let penalty = (weights * negative.squared()).sum(alongAxis: -1) * regularization
        return (penalty - ranking).mean()
    }

    /// TOP1-max (Hidasi and Karatzoglou 2018): Σ_j s_j (σ(x_j − x⁺) + σ(x_j²)), mean over the batch.
    public static func top1Max(positive: Variable, negative: Variable) -> Variable {
        let weights = negative.softmax()
        return (weights * ((negative - column(positive)).sigmoid() + negative.squared().sigmoid())).sum(alongAxis: -1)
            .mean()
    }

    /// BPR-max over a score matrix `[b, c]` whose row r has its positive in column `targets[r]` and
    /// negatives in every other column (GRU4Rec's in-batch and sampled form: the other examples'
    /// targets, then shared sampled items); the positive's column gets no softmax weight.
    public static func bprMax(logits: Variable, targets: [Int32], regularization: Float = 1) -> Variable {
        let (positive, _, weights) = positiveAndNegativeWeights(logits, targets)
        let ranking = (weights * (column(positive) - logits).sigmoid()).sum(alongAxis: -1).log()
        let penalty = (weights * logits.squared()).sum(alongAxis: -1) * regularization
        return (penalty - ranking).mean()
    }

    /// TOP1-max in the form of `bprMax(logits:targets:)`.
    public static func top1Max(logits: Variable, targets: [Int32]) -> Variable {
        let (positive, _, weights) = positiveAndNegativeWeights(logits, targets)
        return (weights * ((logits - column(positive)).sigmoid() + logits.squared().sigmoid())).sum(alongAxis: -1)
            .mean()
    }

    /// The positive score of each row, the one-hot target mask and the softmax of the negative
    /// scores (zero at the target).
    static func positiveAndNegativeWeights(_ logits: Variable, _ targets: [Int32]) -> (Variable, Tensor, Variable) {
        precondition(
            logits.value.rank == 2 && logits.shape[0] == targets.count,
            "ranking loss: logits \(logits.shape), \(targets.count) targets")
        let columns = logits.shape[1]
        var oneHot = [Float](repeating: 0, count: logits.value.scalarCount)
        for (row, target) in targets.enumerated() {
            precondition(target >= 0 && Int(target) < columns, "target \(target) of \(columns) columns")
            oneHot[row * columns + Int(target)] = 1
        }
        let mask = Tensor(shape: logits.shape, scalars: oneHot)
        let positive = (logits * mask).sum(alongAxis: -1)
        let weights = (logits + mask * -1e30).softmax() * (mask * -1 + 1)
        return (positive, mask, weights)
    }

    /// WARP-style weighted hinge (Weston et al. 2011): per example, the hinge max(0, margin − x⁺ + x_j)
    /// of its sampled negatives, weighted by log(1 + r̂) where r̂ = (itemCount − 1)·v/s estimates the
    /// positive's rank from the v of s negatives that violate the margin; mean over the batch. The
    /// weight is a constant of the step (no gradient flows through the rank estimate).
    public static func warpHinge(positive: Variable, negative: Variable, itemCount: Int, margin: Float = 1) -> Variable
    {
        let hinge = (negative - column(positive) + margin).relu()
        let samples = negative.shape[1]
        let batch = negative.shape[0]
        var weights = [Float](repeating: 0, count: batch)
        for row in 0..<batch {
            let violations = (0..<samples).filter { hinge.value.scalars[row * samples + $0] > 0 }.count
            let rank = Float(itemCount - 1) * Float(violations) / Float(max(1, samples))
            weights[row] = violations == 0 ? 0 : Foundation.log(1 + rank) / Float(violations)
        }
        return (hinge.sum(alongAxis: -1) * Tensor(shape: [batch, 1], scalars: weights)).mean()
    }

    /// `[b]` or `[b, 1]` as a `[b, 1]` column.
    static func column(_ scores: Variable) -> Variable {
        scores.value.rank == 1 ? scores.reshaped([scores.shape[0], 1]) : scores
    }
}

import Foundation
import RecKitTensor

/// Updates parameters from their gradients. `step()` applies one update to every parameter that
/// has a gradient (dense or sparse rows) and leaves the gradients in place; call `zeroGradients()`
/// (or the module's) before the next backward pass.
public protocol Optimizer: AnyObject {
    var parameters: [Variable] { get }
    var learningRate: Float { get set }
    func step()
}

extension Optimizer {
    public func zeroGradients() { for parameter in parameters { parameter.zeroGradient() } }
}

/// SGD with optional momentum (heavy ball, or Nesterov) and L2 weight decay:
/// g ← g + λθ; v ← μv + g; θ ← θ − η·(v, or g + μv for Nesterov). Sparse gradients update only
/// their rows (momentum applied to those rows).
public final class SGD: Optimizer {
    public let parameters: [Variable]
    public var learningRate: Float
    public var momentum: Float
    public var nesterov: Bool
    public var weightDecay: Float
    var velocities: [[Float]]

    public init(
        _ parameters: [Variable], learningRate: Float, momentum: Float = 0, nesterov: Bool = false,
        weightDecay: Float = 0
    ) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.momentum = momentum
        self.nesterov = nesterov
        self.weightDecay = weightDecay
        velocities = parameters.map { momentum > 0 ? [Float](repeating: 0, count: $0.value.scalarCount) : [] }
    }

    public func step() {
        let (rate, momentum, nesterov, decay) = (learningRate, self.momentum, self.nesterov, weightDecay)
        for (slot, parameter) in parameters.enumerated() {
            if momentum > 0 && velocities[slot].isEmpty {
                velocities[slot] = [Float](repeating: 0, count: parameter.value.scalarCount)
            }
            parameter.value.scalars.withUnsafeMutableBufferPointer { theta in
                velocities[slot].withUnsafeMutableBufferPointer { velocity in
                    forEachGradientBlock(of: parameter) { offset, gradient in
                        for j in 0..<gradient.count {
                            let index = offset + j
                            var g = gradient[j] + decay * theta[index]
                            if momentum > 0 {
                                velocity[index] = momentum * velocity[index] + g
                                g = nesterov ? g + momentum * velocity[index] : velocity[index]
                            }
                            theta[index] -= rate * g
                        }
                    }
                }
            }
        }
    }
}

/// Adagrad (Duchi et al. 2011): G ← G + g²; θ ← θ − η g / (√G + ε).
public final class Adagrad: Optimizer {
    public let parameters: [Variable]
    public var learningRate: Float
    public var epsilon: Float
    public var weightDecay: Float
    var accumulators: [[Float]]

    public init(
        _ parameters: [Variable], learningRate: Float = 0.01, initialAccumulator: Float = 0, epsilon: Float = 1e-10,
        weightDecay: Float = 0
    ) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        accumulators = parameters.map { [Float](repeating: initialAccumulator, count: $0.value.scalarCount) }
    }

    public func step() {
        let (rate, epsilon, decay) = (learningRate, self.epsilon, weightDecay)
        for (slot, parameter) in parameters.enumerated() {
            parameter.value.scalars.withUnsafeMutableBufferPointer { theta in
                accumulators[slot].withUnsafeMutableBufferPointer { sums in
                    forEachGradientBlock(of: parameter) { offset, gradient in
                        for j in 0..<gradient.count {
                            let index = offset + j
                            let g = gradient[j] + decay * theta[index]
                            sums[index] += g * g
                            theta[index] -= rate * g / (sums[index].squareRoot() + epsilon)
                        }
                    }
                }
            }
        }
    }
}

/// Adam (Kingma and Ba 2015) with bias correction; `weightDecay` as L2 in the gradient, or
/// decoupled (AdamW, Loshchilov and Hutter 2019: θ ← θ − η λ θ before the Adam step).
///
/// Sparse gradients: `lazy` (the default) updates the moments and values of the looked-up rows
/// only, as TensorFlow's LazyAdam does — the right choice for large embedding tables; otherwise a
/// sparse gradient is made dense and every row's moments decay.
public final class Adam: Optimizer {
    public let parameters: [Variable]
    public var learningRate: Float
    public var beta1: Float, beta2: Float, epsilon: Float
    public var weightDecay: Float
    public var decoupledWeightDecay: Bool
    public var lazy: Bool
    public private(set) var stepCount = 0
    var first: [[Float]], second: [[Float]]

    public init(
        _ parameters: [Variable], learningRate: Float = 0.001, beta1: Float = 0.9, beta2: Float = 0.999,
        epsilon: Float = 1e-8,
        weightDecay: Float = 0, decoupledWeightDecay: Bool = false, lazy: Bool = true
    ) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.decoupledWeightDecay = decoupledWeightDecay
        self.lazy = lazy
        first = parameters.map { [Float](repeating: 0, count: $0.value.scalarCount) }
        second = first
    }

    public func step() {
        stepCount += 1
        let correction1 = 1 - Float(Foundation.pow(Double(beta1), Double(stepCount)))
        let correction2 = 1 - Float(Foundation.pow(Double(beta2), Double(stepCount)))
        for (slot, parameter) in parameters.enumerated() {
            let rule = AdamRule(
                rate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon, decay: weightDecay,
                decoupled: decoupledWeightDecay,
                correction1: correction1, correction2: correction2)
            if !lazy, let sparse = parameter.sparseGradient {
                guard parameter.gradient == nil else {
                    parameter.accumulate(sparse.dense(rowCount: parameter.value.shape[0]))
                    parameter.sparseGradient = nil
                    continue
                }
                // Every row moves, rows the batch did not touch with a zero gradient: the dense update,
                // without materialising the dense gradient.
                denseStep(parameter, sparse: sparse.coalesced(), slot: slot, rule: rule)
                continue
            }
            parameter.value.scalars.withUnsafeMutableBufferPointer { theta in
                first[slot].withUnsafeMutableBufferPointer { m in
                    second[slot].withUnsafeMutableBufferPointer { v in
                        forEachGradientBlock(of: parameter) { offset, gradient in
                            guard !gradient.isEmpty else { return }
                            let block = AdamBlock(
                                theta: theta.baseAddress! + offset, m: m.baseAddress! + offset,
                                v: v.baseAddress! + offset,
                                gradient: gradient.baseAddress!)
                            // Every element is independent: large dense blocks in chunks on the worker threads.
                            let count = gradient.count
                            if count < 1 << 18 {
                                rule.apply(block, 0..<count)
                            } else {
                                let chunks = Parallel.chunks(count: count, chunkCount: 4 * Parallel.defaultThreadCount)
                                Parallel.forEach(chunkCount: chunks.count, threadCount: Parallel.defaultThreadCount) {
                                    rule.apply(block, chunks[$0])
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

extension Adam {
    /// The non-lazy step of a parameter with only a sparse gradient: rows in `sparse` with their
    /// gradient, every other row with zeros (the same arithmetic as the densified gradient).
    func denseStep(_ parameter: Variable, sparse: SparseRows, slot: Int, rule: AdamRule) {
        let rows = parameter.value.shape[0]
        let width = rows == 0 ? 0 : parameter.value.scalarCount / rows
        var position = [Int32](repeating: -1, count: rows)
        for (index, row) in sparse.indices.enumerated() { position[Int(row)] = Int32(index) }
        let zeros = [Float](repeating: 0, count: width)
        parameter.value.scalars.withUnsafeMutableBufferPointer { theta in
            first[slot].withUnsafeMutableBufferPointer { m in
                second[slot].withUnsafeMutableBufferPointer { v in
                    sparse.values.scalars.withUnsafeBufferPointer { values in
                        zeros.withUnsafeBufferPointer { zero in
                            position.withUnsafeBufferPointer { position in
                                let shared = AdamRows(
                                    theta: theta.baseAddress!, m: m.baseAddress!, v: v.baseAddress!,
                                    values: values.baseAddress!, zero: zero.baseAddress!,
                                    position: position.baseAddress!, width: width)
                                // Rows are independent: large tables in chunks on the worker threads.
                                let threads = rows * width < 1 << 18 ? 1 : Parallel.defaultThreadCount
                                let chunks = Parallel.chunks(count: rows, chunkCount: 4 * threads)
                                Parallel.forEach(chunkCount: chunks.count, threadCount: threads) {
                                    shared.apply(rule, rows: chunks[$0])
                                }
                            }
                        }
                    }
                }
            }
        }
        parameter.sparseGradient = nil
    }
}

/// A table's parameters, moments and sparse gradient rows for the worker threads of
/// `Adam.denseStep`: each chunk writes only its own rows.
struct AdamRows: @unchecked Sendable {
    let theta: UnsafeMutablePointer<Float>, m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>
    let values: UnsafePointer<Float>, zero: UnsafePointer<Float>
    let position: UnsafePointer<Int32>
    let width: Int

    func apply(_ rule: AdamRule, rows: Range<Int>) {
        for row in rows {
            let offset = row * width
            let gradient = position[row] < 0 ? zero : values + Int(position[row]) * width
            rule.apply(AdamBlock(theta: theta + offset, m: m + offset, v: v + offset, gradient: gradient), 0..<width)
        }
    }
}

/// Rprop (Riedmiller and Braun 1993) in the iRprop− form PyTorch's `torch.optim.Rprop` implements:
/// each parameter has its own step size, which grows by `increase` while its gradient keeps its
/// sign and shrinks by `decrease` when the sign flips (that step is then skipped and the gradient
/// forgotten), bounded to `stepSizes`; the update is −sign(g)·step. Only signs matter, so the loss's
/// scale does not; meant for full-batch training (AutoRec's), where the gradient is the whole
/// objective's. `learningRate` is the initial step size. Sparse gradients are made dense.
public final class Rprop: Optimizer {
    public let parameters: [Variable]
    public var learningRate: Float
    public var decrease: Float, increase: Float
    public var stepSizes: ClosedRange<Float>
    var previous: [[Float]], steps: [[Float]]

    public init(
        _ parameters: [Variable], learningRate: Float = 0.01, decrease: Float = 0.5, increase: Float = 1.2,
        stepSizes: ClosedRange<Float> = 1e-6...50
    ) {
        precondition(decrease > 0 && decrease < 1 && increase > 1, "Rprop needs 0 < decrease < 1 < increase")
        self.parameters = parameters
        self.learningRate = learningRate
        self.decrease = decrease
        self.increase = increase
        self.stepSizes = stepSizes
        previous = parameters.map { [Float](repeating: 0, count: $0.value.scalarCount) }
        steps = parameters.map { _ in [] }
    }

    public func step() {
        let (decrease, increase, bounds) = (self.decrease, self.increase, stepSizes)
        for (slot, parameter) in parameters.enumerated() {
            if let sparse = parameter.sparseGradient {
                parameter.accumulate(sparse.dense(rowCount: parameter.value.shape[0]))
                parameter.sparseGradient = nil
            }
            guard let gradient = parameter.gradient else { continue }
            if steps[slot].isEmpty { steps[slot] = [Float](repeating: learningRate, count: gradient.scalarCount) }
            parameter.value.scalars.withUnsafeMutableBufferPointer { theta in
                previous[slot].withUnsafeMutableBufferPointer { last in
                    steps[slot].withUnsafeMutableBufferPointer { size in
                        gradient.scalars.withUnsafeBufferPointer { g in
                            for j in 0..<g.count {
                                var current = g[j]
                                let agreement = current * last[j]
                                if agreement > 0 {
                                    size[j] = min(size[j] * increase, bounds.upperBound)
                                } else if agreement < 0 {
                                    size[j] = max(size[j] * decrease, bounds.lowerBound)
                                    current = 0
                                }
                                if current > 0 {
                                    theta[j] -= size[j]
                                } else if current < 0 {
                                    theta[j] += size[j]
                                }
                                last[j] = current
                            }
                        }
                    }
                }
            }
        }
    }
}

/// One Adam update rule with its step's bias corrections.
struct AdamRule: Sendable {
    let rate: Float, beta1: Float, beta2: Float, epsilon: Float, decay: Float
    let decoupled: Bool
    let correction1: Float, correction2: Float

    /// Eight lanes at a time, then the rest one by one: the same operations in the same order on
    /// each element (IEEE division and square root are exact in both), so the same bits.
    @inline(__always)
    func apply(_ block: AdamBlock, _ range: Range<Int>) {
        var index = range.lowerBound
        let theta = block.theta
        let m = block.m
        let v = block.v
        let gradient = block.gradient
        let vectorEnd = range.lowerBound + (range.count / 8) * 8
        while index < vectorEnd {
            var g = UnsafeRawPointer(gradient + index).loadUnaligned(as: SIMD8<Float>.self)
            var t = UnsafeRawPointer(theta + index).loadUnaligned(as: SIMD8<Float>.self)
            if decoupled {
                t -= rate * decay * t
            } else {
                g += decay * t
            }
            let first = beta1 * UnsafeRawPointer(m + index).loadUnaligned(as: SIMD8<Float>.self) + (1 - beta1) * g
            let second =
                beta2 * UnsafeRawPointer(v + index).loadUnaligned(as: SIMD8<Float>.self) + (1 - beta2) * g * g
            t -= rate * (first / correction1) / ((second / correction2).squareRoot() + epsilon)
            UnsafeMutableRawPointer(m + index).storeBytes(of: first, as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(v + index).storeBytes(of: second, as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(theta + index).storeBytes(of: t, as: SIMD8<Float>.self)
            index += 8
        }
        while index < range.upperBound {
            var g = gradient[index]
            if decoupled {
                theta[index] -= rate * decay * theta[index]
            } else {
                g += decay * theta[index]
            }
            m[index] = beta1 * m[index] + (1 - beta1) * g
            v[index] = beta2 * v[index] + (1 - beta2) * g * g
            theta[index] -= rate * (m[index] / correction1) / ((v[index] / correction2).squareRoot() + epsilon)
            index += 1
        }
    }
}

/// A block of parameters, moments and gradient (from the same offset) for the worker threads:
/// each chunk writes only its own elements.
struct AdamBlock: @unchecked Sendable {
    let theta: UnsafeMutablePointer<Float>, m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>
    let gradient: UnsafePointer<Float>
}

/// Calls `body(offset, gradient)` for each block of a parameter's gradient: the whole dense
/// gradient once (offset 0), then each distinct row of a sparse one (duplicates summed) at its
/// row's offset.
func forEachGradientBlock(
    of parameter: Variable, _ body: (_ offset: Int, _ gradient: UnsafeBufferPointer<Float>) -> Void
) {
    parameter.gradient?.scalars.withUnsafeBufferPointer { body(0, $0) }
    if let sparse = parameter.sparseGradient?.coalesced() {
        let width = sparse.values.shape[1]
        sparse.values.scalars.withUnsafeBufferPointer { rows in
            for (row, index) in sparse.indices.enumerated() {
                body(Int(index) * width, UnsafeBufferPointer(rebasing: rows[(row * width)..<((row + 1) * width)]))
            }
        }
    }
}

/// Rescales all gradients so that their global L2 norm is at most `maxNorm`; returns the norm
/// before clipping.
@discardableResult
public func clipGradientNorm(_ parameters: [Variable], maxNorm: Float) -> Float {
    var total = 0.0
    for parameter in parameters {
        for value in parameter.gradient?.scalars ?? [] { total += Double(value) * Double(value) }
        if let sparse = parameter.sparseGradient?.coalesced() {
            for value in sparse.values.scalars { total += Double(value) * Double(value) }
        }
    }
    let norm = Float(total.squareRoot())
    guard norm > maxNorm, norm > 0 else { return norm }
    let scale = maxNorm / norm
    for parameter in parameters {
        if let gradient = parameter.gradient { parameter.gradient = gradient * scale }
        if let sparse = parameter.sparseGradient {
            parameter.sparseGradient = SparseRows(indices: sparse.indices, values: sparse.values * scale)
        }
    }
    return norm
}

/// A learning rate as a function of the step (0-based).
public enum LearningRateSchedule: Sendable, Equatable {
    case constant(Float)
    /// rate · factor^⌊step / every⌋.
    case stepDecay(rate: Float, factor: Float, every: Int)
    /// rate · factor^step.
    case exponential(rate: Float, factor: Float)
    /// Linear warm-up to `rate` over `warmup` steps, then cosine decay to `floor` at `total`.
    case warmupCosine(rate: Float, warmup: Int, total: Int, floor: Float)

    public func rate(at step: Int) -> Float {
        switch self {
        case .constant(let rate):
            return rate
        case .stepDecay(let rate, let factor, let every):
            return rate * Float(Foundation.pow(Double(factor), Double(step / max(1, every))))
        case .exponential(let rate, let factor):
            return rate * Float(Foundation.pow(Double(factor), Double(step)))
        case .warmupCosine(let rate, let warmup, let total, let floor):
            if step < warmup { return rate * Float(step + 1) / Float(warmup) }
            let progress = min(1, Double(step - warmup) / Double(max(1, total - warmup)))
            return floor + (rate - floor) * Float(0.5 * (1 + Foundation.cos(Double.pi * progress)))
        }
    }
}

/// FTRL-Proximal (McMahan et al. 2013), the optimiser Wide & Deep trains its wide part with:
/// per coordinate, n ← n + g², σ = (√n_new − √n_old)/α, z ← z + g − σθ, and
/// θ = −(z − sign(z)λ₁) / ((β + √n)/α + λ₂) where |z| > λ₁, else 0 (L1 makes the linear model
/// sparse). `learningRate` is α.
public final class FTRL: Optimizer {
    public let parameters: [Variable]
    public var learningRate: Float
    public var beta: Float
    public var l1: Float
    public var l2: Float
    var squaredSums: [[Float]]
    var linear: [[Float]]

    public init(_ parameters: [Variable], learningRate: Float = 0.1, beta: Float = 1, l1: Float = 0, l2: Float = 0) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.beta = beta
        self.l1 = l1
        self.l2 = l2
        squaredSums = parameters.map { [Float](repeating: 0, count: $0.value.scalarCount) }
        // z starts where θ does: θ₀ = −z₀ / (β/α + λ₂) (zero when there is no L1), so starting
        // values (e.g. a bias) are kept until the first gradient.
        let start = beta / learningRate + l2
        linear = parameters.map { parameter in parameter.value.scalars.map { -$0 * start } }
    }

    public func step() {
        let (alpha, beta, l1, l2) = (learningRate, self.beta, self.l1, self.l2)
        for (slot, parameter) in parameters.enumerated() {
            parameter.value.scalars.withUnsafeMutableBufferPointer { theta in
                squaredSums[slot].withUnsafeMutableBufferPointer { n in
                    linear[slot].withUnsafeMutableBufferPointer { z in
                        forEachGradientBlock(of: parameter) { offset, gradient in
                            for j in 0..<gradient.count {
                                let index = offset + j
                                let g = gradient[j]
                                let updated = n[index] + g * g
                                let sigma = (updated.squareRoot() - n[index].squareRoot()) / alpha
                                z[index] += g - sigma * theta[index]
                                n[index] = updated
                                let magnitude = abs(z[index])
                                theta[index] =
                                    magnitude <= l1
                                    ? 0
                                    : -(z[index] - (z[index] > 0 ? l1 : -l1))
                                        / ((beta + updated.squareRoot()) / alpha + l2)
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Several optimisers stepping disjoint parameter groups as one (Wide & Deep's FTRL for the wide
/// part and Adam for the deep part, trained jointly). Setting `learningRate` scales each group's
/// own rate by the same factor (a schedule stays relative).
public final class CombinedOptimizer: Optimizer {
    public let optimizers: [any Optimizer]
    private let baseRates: [Float]

    public init(_ optimizers: [any Optimizer]) {
        self.optimizers = optimizers
        baseRates = optimizers.map(\.learningRate)
        learningRate = optimizers.first?.learningRate ?? 0
    }

    public var parameters: [Variable] { optimizers.flatMap(\.parameters) }

    public var learningRate: Float {
        didSet {
            guard let first = baseRates.first, first > 0 else { return }
            let factor = learningRate / first
            for (optimizer, rate) in zip(optimizers, baseRates) { optimizer.learningRate = rate * factor }
        }
    }

    public func step() { for optimizer in optimizers { optimizer.step() } }
}

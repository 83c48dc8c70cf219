import RecKitTensor
import Testing

@testable import RecKitNN

/// Three steps of each optimiser on L(θ) = Σ (a_i θ_i² / 2 + b_i θ_i) against a NumPy (float64)
/// reference of the same update rules; the expected values were printed by a short NumPy script
/// of the textbook updates (PyTorch's conventions for momentum, Nesterov and AdamW).
@Suite struct OptimizerTests {
    static let a = Tensor(shape: [4], scalars: [1, 2, 0.5, 3]), b = Tensor(shape: [4], scalars: [0.3, -0.2, 0.1, -0.5])
    static let start: [Float] = [0.5, -1, 2, 0.25]

    static let references: [(String, [Float])] = [
        ("sgd", [0.283200000, -0.463200000, 1.686225000, 0.195250000]),
        ("momentum", [0.088800000, 0.031800000, 1.409025000, 0.143500000]),
        ("nesterov", [-0.038143200, 0.219187200, 1.189217775, 0.137652250]),
        ("sgd_wd", [0.282070319, -0.461334379, 1.680844688, 0.194763075]),
        ("adagrad", [0.282917498, -0.779585258, 1.775418723, 0.166148383]),
        ("adam", [0.202220070, -0.701382445, 1.700553816, 0.107876598]),
        ("adam_l2", [0.202343682, -0.701391025, 1.700564340, 0.096716191]),
        ("adamw", [0.190516212, -0.674862970, 1.644278763, 0.107478124]),
        // FTRL-Proximal, α 0.1, β 1, λ₁ 0.01, λ₂ 0.1; z₀ = −θ₀(β/α + λ₂), so it starts at θ₀.
        ("ftrl", [0.388507406, -0.837375235, 1.868602328, 0.204412823]),
    ]

    func optimizer(_ name: String, _ theta: Variable) -> any Optimizer {
        switch name {
        case "sgd": return SGD([theta], learningRate: 0.1)
        case "momentum": return SGD([theta], learningRate: 0.1, momentum: 0.9)
        case "nesterov": return SGD([theta], learningRate: 0.1, momentum: 0.9, nesterov: true)
        case "sgd_wd": return SGD([theta], learningRate: 0.1, weightDecay: 0.01)
        case "adagrad": return Adagrad([theta], learningRate: 0.1)
        case "adam": return Adam([theta], learningRate: 0.1)
        case "adam_l2": return Adam([theta], learningRate: 0.1, weightDecay: 0.1)
        case "ftrl": return FTRL([theta], learningRate: 0.1, beta: 1, l1: 0.01, l2: 0.1)
        default: return Adam([theta], learningRate: 0.1, weightDecay: 0.1, decoupledWeightDecay: true)
        }
    }

    @Test(arguments: references.map(\.0))
    func threeStepsMatchTheReference(name: String) {
        let theta = Variable(Tensor(shape: [4], scalars: Self.start), requiresGradient: true)
        let optimizer = optimizer(name, theta)
        for _ in 0..<3 {
            optimizer.zeroGradients()
            ((theta.squared() * Self.a) * 0.5 + theta * Self.b).sum().backward()
            optimizer.step()
        }
        let expected = Self.references.first { $0.0 == name }!.1
        #expect(
            zip(theta.value.scalars, expected).allSatisfy { abs($0 - $1) <= 1e-5 },
            "\(theta.value.scalars) vs \(expected)")
    }

    /// A combined optimiser steps each group with its own rule and scales every group's rate alike.
    @Test func combinedOptimizerStepsEachGroup() {
        let first = Variable(Tensor(shape: [4], scalars: Self.start), requiresGradient: true)
        let second = Variable(Tensor(shape: [4], scalars: Self.start), requiresGradient: true)
        let combined = CombinedOptimizer([
            FTRL([first], learningRate: 0.1, beta: 1, l1: 0.01, l2: 0.1), Adam([second], learningRate: 0.1),
        ])
        for _ in 0..<3 {
            combined.zeroGradients()
            for theta in [first, second] { ((theta.squared() * Self.a) * 0.5 + theta * Self.b).sum().backward() }
            combined.step()
        }
        for (theta, name) in [(first, "ftrl"), (second, "adam")] {
            let expected = Self.references.first { $0.0 == name }!.1
            #expect(zip(theta.value.scalars, expected).allSatisfy { abs($0 - $1) <= 1e-5 })
        }
        combined.learningRate = 0.05
        #expect(combined.optimizers.map(\.learningRate) == [0.05, 0.05])
    }

    @Test(arguments: ["sgd", "momentum", "adagrad", "adam"])
    func sparseRowsUpdateLikeTheirDenseGradient(name: String) {
        // A table whose looked-up rows get the same updates as the dense equivalent; others stay.
        // (Adam here is lazy: untouched rows keep their moments, which equals the dense update
        // for rows touched on every step, as these are.)
        func run(sparse: Bool) -> Tensor {
            let table = Variable(
                Tensor(shape: [4, 2], scalars: [0.5, -1, 2, 0.25, 1, 1, -0.5, 0.3]), requiresGradient: true)
            table.isSparse = sparse
            let optimizer = optimizer(name, table)
            for _ in 0..<3 {
                optimizer.zeroGradients()
                let rows = table.gathering(rows: [2, 0, 2])
                (rows.squared() * Tensor(shape: [2], scalars: [1, 3])).sum().backward()
                optimizer.step()
            }
            return table.value
        }
        let dense = run(sparse: false)
        let sparse = run(sparse: true)
        #expect(dense.maxAbsoluteDifference(sparse) <= 1e-6)
        #expect(Array(sparse.scalars[2..<4]) == [2, 0.25] && Array(sparse.scalars[6..<8]) == [-0.5, 0.3])
    }

    /// Non-lazy Adam on a sparse gradient moves every row, untouched ones with a zero gradient: bit
    /// for bit the update of the dense gradient (rows 1 and 3 are never looked up, yet move).
    @Test func nonLazyAdamOnSparseRowsEqualsTheDenseUpdate() {
        func run(sparse: Bool) -> Tensor {
            let table = Variable(
                Tensor(shape: [4, 9], scalars: (0..<36).map { Float($0 % 7) / 3 - 1 }), requiresGradient: true)
            table.isSparse = sparse
            let optimizer = Adam([table], learningRate: 0.1, weightDecay: 0.01, lazy: false)
            for step in 0..<4 {
                optimizer.zeroGradients()
                let rows = table.gathering(rows: step % 2 == 0 ? [2, 0, 2] : [0])
                (rows.squared() * Tensor(shape: [9], scalars: (0..<9).map { Float($0) - 4 })).sum().backward()
                optimizer.step()
            }
            return table.value
        }
        let dense = run(sparse: false)
        #expect(run(sparse: true) == dense)
        #expect(Array(dense.scalars[9..<18]) != (9..<18).map { Float($0 % 7) / 3 - 1 })
    }

    /// Coalescing sums each row's lookups in lookup order, rows ascending; both ways of finding the
    /// distinct rows (marking a small table, sorting for a large one) agree on a hand-made case.
    @Test func sparseRowsCoalesceByRow() {
        let lookups: [Int32] = [5, 1, 5, 0, 1]
        for rowCount in [6, 1_000] {
            let (rows, slots) = SparseRows.distinctRows(of: lookups, rowCount: rowCount)
            #expect(rows == [0, 1, 5] && slots == [2, 1, 2, 0, 1])
        }
        let sparse = SparseRows(
            indices: lookups, values: Tensor(shape: [5, 2], scalars: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]))
        let coalesced = sparse.coalesced()
        #expect(coalesced.indices == [0, 1, 5])
        #expect(coalesced.values.scalars == [7, 8, 12, 14, 6, 8])
        // Already distinct and ascending: itself.
        #expect(coalesced.coalesced() == coalesced)
    }

    /// Twelve steps of Rprop (iRprop−) on Σ w_i (θ_i − t_i)⁴ + c·θ, which overshoots and so shrinks
    /// steps as well as growing them; the expected values were printed by `torch.optim.Rprop(lr=0.1)`
    /// (PyTorch 2.13) on the same function and start. A zero gradient (θ_3 at its target) never moves.
    @Test func rpropFollowsPyTorchsTrajectory() {
        let theta = Variable(Tensor(shape: [4], scalars: [1, -2, 0.5, 3]), requiresGradient: true)
        let target = Tensor(shape: [4], scalars: [0.3, 0, 0.5, -1])
        let (w, c) = (Tensor(shape: [4], scalars: [1, 2, 0.5, 0.1]), Tensor(shape: [4], scalars: [0.5, -0.3, 0, 0.2]))
        let optimizer = Rprop([theta], learningRate: 0.1)
        for _ in 0..<12 {
            optimizer.zeroGradients()
            ((theta - Variable(target)).squared().squared() * w + theta * c).sum().backward()
            optimizer.step()
        }
        let expected: [Float] = [-0.2169410, 0.3378797, 0.5, -0.9580513]
        #expect(
            zip(theta.value.scalars, expected).allSatisfy { abs($0 - $1) <= 1e-5 }, "\(theta.value.scalars)")
    }

    @Test func clippingAndSchedules() {
        let x = Variable(Tensor(shape: [2], scalars: [3, 4]), requiresGradient: true)
        (x * Tensor(shape: [2], scalars: [3, 4])).sum().backward() // gradient (3, 4), norm 5
        #expect(clipGradientNorm([x], maxNorm: 1) == 5)
        #expect(x.gradient!.maxAbsoluteDifference(Tensor(shape: [2], scalars: [0.6, 0.8])) < 1e-6)
        #expect(LearningRateSchedule.stepDecay(rate: 1, factor: 0.5, every: 10).rate(at: 25) == 0.25)
        #expect(abs(LearningRateSchedule.exponential(rate: 1, factor: 0.9).rate(at: 2) - 0.81) < 1e-6)
        let cosine = LearningRateSchedule.warmupCosine(rate: 1, warmup: 4, total: 14, floor: 0.1)
        #expect(cosine.rate(at: 0) == 0.25 && cosine.rate(at: 3) == 1)
        #expect(abs(cosine.rate(at: 9) - 0.55) < 1e-6 && abs(cosine.rate(at: 14) - 0.1) < 1e-6)
    }
}

import Foundation
import RecKitTensor
import Testing
import _RecKitTestSupport

@testable import RecKitNN

@Suite struct TrainingTests {
    @Test func batchesCoverEveryExampleOncePerEpochAndRepeat() {
        let schedule = BatchSchedule(exampleCount: 10, batchSize: 4, seed: 3)
        let epoch0 = schedule.batches(epoch: 0)
        #expect(epoch0.map(\.count) == [4, 4, 2] && epoch0.flatMap { $0 }.sorted() == Array(0..<10))
        #expect(schedule.batches(epoch: 0) == epoch0 && schedule.batches(epoch: 1) != epoch0)
        #expect(BatchSchedule(exampleCount: 10, batchSize: 4, dropLast: true).batches(epoch: 0).map(\.count) == [4, 4])
        #expect(
            BatchSchedule(exampleCount: 5, batchSize: 2, shuffle: false).batches(epoch: 7) == [[0, 1], [2, 3], [4]])
    }

    @Test func prefetcherKeepsOrderAndStops() {
        let squares = Array(Prefetcher(Array(0..<50), depth: 3) { $0 * $0 })
        #expect(squares == (0..<50).map { $0 * $0 })
        let early = Prefetcher(Array(0..<1000), depth: 2) { $0 }
        #expect(early.next() == 0 && early.next() == 1)
        early.cancel()
        #expect(early.next() == nil)
    }

    @Test func samplersFollowTheirDistributions() {
        var generator = SplitMix64(seed: 9)
        let counts = [1, 10, 100, 0]
        let popular = NegativeSampler(itemCount: 4, kind: .popularity(alpha: 0.5), counts: counts)
        var histogram = [Int](repeating: 0, count: 4)
        for _ in 0..<20_000 { histogram[Int(popular.sample(using: &generator))] += 1 }
        let weights = counts.map { Foundation.pow(Double($0), 0.5) }
        let total = weights.reduce(0, +)
        for item in 0..<4 {
            #expect(abs(Double(histogram[item]) / 20_000 - weights[item] / total) < 0.01, "item \(item)")
        }
        #expect(
            abs(popular.logProbabilities[2] - Float(Foundation.log(10 / total))) < 1e-5
                && popular.logProbabilities[3] == -.infinity)
        let uniform = NegativeSampler(itemCount: 5)
        // 4 of 5 items excluded: a plain draw hits them 80 % of the time, 11 tries 0.8¹¹ ≈ 8.6 %.
        #expect(uniform.sample(200, excluding: [0, 1, 2, 3], using: &generator).filter { $0 != 4 }.count < 35)
        #expect(NegativeSampler.inBatch(positives: [7, 8, 9]) == [[8, 9], [7, 9], [7, 8]])
    }

    @Test func earlyStoppingWaitsForPatience() {
        var stopping = EarlyStopping(patience: 2)
        #expect(stopping.record(0.30, epoch: 0) && stopping.record(0.35, epoch: 1))
        #expect(!stopping.record(0.34, epoch: 2) && !stopping.shouldStop)
        #expect(!stopping.record(0.35, epoch: 3) && stopping.shouldStop)
        #expect(stopping.best == 0.35 && stopping.bestEpoch == 1)
        var lower = EarlyStopping(patience: 1, higherIsBetter: false)
        #expect(
            lower.record(1, epoch: 0) && lower.record(0.5, epoch: 1) && !lower.record(0.7, epoch: 2) && lower.shouldStop
        )
    }

    @Test func checkpointsRoundTripAndRejectMismatches() throws {
        let folder = TemporaryDirectory()
        let path = folder.path + "/mlp.safetensors"
        let trained = MLP([3, 4, 2], seed: 1)
        try Checkpoint.save(trained, to: path, metadata: ["epoch": "3"])
        let fresh = MLP([3, 4, 2], seed: 2)
        #expect(fresh.layers[0].weight.value != trained.layers[0].weight.value)
        #expect(try Checkpoint.load(into: fresh, from: path) == ["epoch": "3"])
        #expect(
            zip(fresh.parameters, trained.parameters).allSatisfy {
                $0.name == $1.name && $0.variable.value == $1.variable.value
            })
        #expect(throws: CheckpointError.self) { try Checkpoint.load(into: MLP([3, 5, 2]), from: path) } // shapes
        // Missing and extra tensors.
        #expect(throws: CheckpointError.self) { try Checkpoint.load(into: MLP([3, 4, 4, 2]), from: path) }
        #expect(throws: CheckpointError.self) { try Checkpoint.load(into: Linear(3, 4), from: path) } // other names
        try Data("not a checkpoint".utf8).write(to: URL(fileURLWithPath: folder.path + "/bad"))
        #expect(throws: CheckpointError.self) { try Checkpoint.load(into: fresh, from: folder.path + "/bad") }
        #expect(throws: CheckpointError.self) { try Checkpoint.load(into: fresh, from: folder.path + "/absent") }
    }

    @Test(.enabled(if: PythonSafetensors.available, "python3 with the safetensors and numpy packages is not installed"))
    func pythonReadsCheckpoints() throws {
        let folder = TemporaryDirectory()
        let path = folder.path + "/m.safetensors"
        let model = MLP([3, 4, 2], seed: 5)
        try Checkpoint.save(model, to: path)
        let output = try PythonSafetensors.run(
            "from safetensors.numpy import load_file; w = load_file('\(path)'); print(sorted(w)); "
                + "print(w['layers.0.weight'].shape, repr(float(w['layers.0.weight'][1, 2])))"
        )
        let lines = output.split(separator: "\n").map(String.init)
        #expect(lines.first == "['layers.0.bias', 'layers.0.weight', 'layers.1.bias', 'layers.1.weight']")
        #expect(lines.last?.hasPrefix("(3, 4) ") == true)
        #expect(Float(lines.last!.split(separator: " ").last!) == model.layers[0].weight.value.scalars[1 * 4 + 2])
    }

    /// Uniform initialisers stay inside their bounds and use most of the range: Glorot ±√(6/(in+out)),
    /// LeCun ±√(1/in) (PyTorch's linear-layer default).
    @Test func uniformInitialisersKeepTheirBounds() {
        var generator = Xoshiro256(seed: 5)
        for (initializer, bound) in [(Initializer.glorotUniform, Float(6.0 / 300).squareRoot()), (.lecunUniform, 0.1)] {
            let values = initializer.tensor([100, 200], fanIn: 100, fanOut: 200, using: &generator).scalars
            #expect(values.allSatisfy { abs($0) <= bound } && values.map(abs).max()! > 0.99 * bound)
        }
    }

    @Test func modulesNameParametersAndSwitchModes() {
        let mlp = MLP([2, 3, 1], dropout: 0.5, seed: 1)
        #expect(mlp.parameters.map(\.name) == ["layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias"])
        #expect(mlp.parameterCount == 2 * 3 + 3 + 3 + 1)
        let x = Variable(Tensor(repeating: 1, shape: [4, 2]))
        mlp.setTraining(false)
        let a = mlp(x).value
        let b = mlp(x).value
        #expect(a == b) // no dropout in evaluation
        mlp.setTraining(true)
        #expect(mlp.dropout!.isTraining)
        // Training-mode dropout zeroes about p of the elements and scales the rest by 1/(1 − p).
        let dropout = Dropout(0.25, seed: 4)
        let dropped = dropout(Variable(Tensor(repeating: 2, shape: [100, 40]))).value.scalars
        #expect(dropped.allSatisfy { $0 == 0 || abs($0 - 2 / 0.75) < 1e-6 })
        #expect(abs(Double(dropped.filter { $0 == 0 }.count) / 4000 - 0.25) < 0.03)
    }

    /// Training draws are N(μ, σ²) and differentiable (∂z/∂μ = 1, ∂z/∂log σ² = (z − μ)/2); evaluation
    /// gives μ; the same seed, the same draws.
    @Test func gaussianSamplesReparameterise() {
        let count = 20_000
        let mean = Variable(Tensor(repeating: 1.5, shape: [count, 1]), requiresGradient: true)
        let logVariance = Variable(Tensor(repeating: Float(log(0.25)), shape: [count, 1]), requiresGradient: true)
        let sample = GaussianSample(seed: 9)
        let z = sample(mean: mean, logVariance: logVariance)
        let draws = z.value.scalars.map(Double.init)
        let average = draws.reduce(0, +) / Double(count)
        let deviation = (draws.map { ($0 - average) * ($0 - average) }.reduce(0, +) / Double(count - 1)).squareRoot()
        #expect(abs(average - 1.5) < 0.01)
        #expect(abs(deviation - 0.5) < 0.01)
        z.sum().backward()
        #expect(mean.gradient!.scalars.allSatisfy { $0 == 1 })
        for (gradient, draw) in zip(logVariance.gradient!.scalars, z.value.scalars) {
            #expect(abs(gradient - (draw - 1.5) / 2) < 1e-5)
        }
        #expect(GaussianSample(seed: 9)(mean: mean, logVariance: logVariance).value == z.value)
        sample.setTraining(false)
        #expect(sample(mean: mean, logVariance: logVariance).value == mean.value)
    }
}

/// The one training loop: steps, losses, the NaN check, cancellation, early stopping and checkpoints.
@Suite struct TrainingLoopTests {
    /// y = 2x + 1 from 64 points in batches of 16.
    func regression(seed: UInt64 = 3) -> (Linear, Tensor, Tensor) {
        var generator = SplitMix64(seed: seed)
        let xs = (0..<64).map { _ in generator.nextUnitFloat() * 2 - 1 }
        return (
            Linear(1, 1, seed: seed), Tensor(shape: [64, 1], scalars: xs),
            Tensor(shape: [64, 1], scalars: xs.map { 2 * $0 + 1 })
        )
    }

    func epoch(_ x: Tensor, _ y: Tensor) -> (Int) -> EpochBatches<[Int], (Tensor, Tensor)> {
        let schedule = BatchSchedule(exampleCount: 64, batchSize: 16, seed: 1)
        return { epoch in
            EpochBatches(inputs: schedule.batches(epoch: epoch)) { rows in
                (
                    Tensor(shape: [rows.count, 1], scalars: rows.map { x.scalars[$0] }),
                    Tensor(shape: [rows.count, 1], scalars: rows.map { y.scalars[$0] })
                )
            }
        }
    }

    @Test func learnsAndReportsEachEpochWithItsMeanLoss() throws {
        let (model, x, y) = regression()
        final class Log: @unchecked Sendable { var updates: [TrainingUpdate] = [] }
        let log = Log()
        var loop = TrainingLoop(epochCount: 30)
        let summary = try loop.run(
            model, optimizer: Adam(model.parameters.map(\.variable), learningRate: 0.1),
            context: TrainingContext { log.updates.append($0) }, epoch: epoch(x, y),
            loss: { batch, _ in Loss.meanSquaredError(model(Variable(batch.0)), batch.1) })
        #expect(summary.epochs == 30 && summary.steps == 30 * 4 && summary.losses.count == 30)
        #expect(log.updates.map(\.step) == Array(1...30) && log.updates.allSatisfy { $0.total == 30 })
        #expect(log.updates.map(\.loss) == summary.losses.map { Optional($0) })
        #expect(summary.losses[29] < 0.01 * summary.losses[0])
        // The same seeds give the same bits.
        let (again, _, _) = regression()
        var second = TrainingLoop(epochCount: 30)
        try second.run(
            again, optimizer: Adam(again.parameters.map(\.variable), learningRate: 0.1), epoch: epoch(x, y),
            loss: { batch, _ in Loss.meanSquaredError(again(Variable(batch.0)), batch.1) })
        #expect(again.weight.value == model.weight.value && again.bias?.value == model.bias?.value)
    }

    /// Batches prepared inline (depth 0) train to the same bits as batches prepared ahead.
    @Test func inlinePreparationGivesTheSameBits() throws {
        var models: [Linear] = []
        for depth in [0, 2] {
            let (model, x, y) = regression()
            var loop = TrainingLoop(epochCount: 5)
            loop.prefetchDepth = depth
            try loop.run(
                model, optimizer: Adam(model.parameters.map(\.variable), learningRate: 0.1), epoch: epoch(x, y),
                loss: { batch, _ in Loss.meanSquaredError(model(Variable(batch.0)), batch.1) })
            models.append(model)
        }
        #expect(models[0].weight.value == models[1].weight.value && models[0].bias?.value == models[1].bias?.value)
    }

    /// With `.everyEpoch` the optimiser steps once per epoch on the gradient summed over the batches:
    /// four batches, each contributing its share of the mean squared error, train exactly as one
    /// full batch would (up to the order of the sums).
    @Test func epochUpdatesSumTheBatchesGradients() throws {
        var results: [Linear] = []
        for full in [false, true] {
            let (model, x, y) = regression()
            var loop = TrainingLoop(epochCount: 6)
            loop.update = .everyEpoch
            let schedule = BatchSchedule(exampleCount: 64, batchSize: full ? 64 : 16, seed: 1)
            let summary = try loop.run(
                model, optimizer: Rprop(model.parameters.map(\.variable), learningRate: 0.05),
                epoch: { epoch in
                    EpochBatches(inputs: schedule.batches(epoch: epoch)) { rows in
                        (
                            Tensor(shape: [rows.count, 1], scalars: rows.map { x.scalars[$0] }),
                            Tensor(shape: [rows.count, 1], scalars: rows.map { y.scalars[$0] })
                        )
                    }
                },
                loss: { batch, _ in
                    Loss.meanSquaredError(model(Variable(batch.0)), batch.1) * (Float(batch.0.shape[0]) / 64)
                })
            #expect(summary.steps == 6 && summary.epochs == 6)
            results.append(model)
        }
        #expect(results[0].weight.value.maxAbsoluteDifference(results[1].weight.value) < 1e-6)
        #expect(results[0].bias!.value.maxAbsoluteDifference(results[1].bias!.value) < 1e-6)
        #expect(results[0].weight.value.scalars[0] != Linear(1, 1, seed: 3).weight.value.scalars[0])
    }

    @Test func aNonFiniteLossNamesTheEpochAndBatch() {
        let (model, x, y) = regression()
        var loop = TrainingLoop(epochCount: 5)
        #expect(throws: FitError.nonFiniteLoss(epoch: 2, batch: 3)) {
            try loop.run(
                model, optimizer: SGD(model.parameters.map(\.variable), learningRate: 0.01), epoch: epoch(x, y),
                loss: { batch, step in
                    let loss = Loss.meanSquaredError(model(Variable(batch.0)), batch.1)
                    return step == 6 ? loss * Float.nan : loss // epoch 2 (steps 4–7), its third batch
                })
        }
    }

    @Test func cancellationStopsAtTheNextBatch() {
        let (model, x, y) = regression()
        let cancellation = Cancellation()
        var loop = TrainingLoop(epochCount: 5)
        var steps = 0
        #expect(throws: FitError.cancelled) {
            try loop.run(
                model, optimizer: SGD(model.parameters.map(\.variable), learningRate: 0.01),
                context: TrainingContext(cancellation: cancellation), epoch: epoch(x, y),
                loss: { batch, step in
                    steps = step + 1
                    if step == 2 { cancellation.cancel() }
                    return Loss.meanSquaredError(model(Variable(batch.0)), batch.1)
                })
        }
        #expect(steps == 3)
    }

    @Test func earlyStoppingKeepsTheBestEpochAndClippingBoundsTheStep() throws {
        let (model, x, y) = regression()
        // A validation score that peaks at epoch 3, then falls: stop after 2 worse epochs, keep epoch 3.
        let scores = [0.1, 0.2, 0.5, 0.4, 0.3, 0.2, 0.1]
        var kept: Tensor?
        var loop = TrainingLoop(epochCount: 7, gradientClipNorm: 0.5, earlyStopping: EarlyStopping(patience: 2))
        let summary = try loop.run(
            model, optimizer: SGD(model.parameters.map(\.variable), learningRate: 0.05), epoch: epoch(x, y),
            loss: { batch, _ in Loss.meanSquaredError(model(Variable(batch.0)), batch.1) },
            validate: { epoch in
                if epoch == 2 { kept = model.weight.value }
                return ValidationMeasurement(name: "score", value: scores[epoch])
            })
        #expect(summary.epochs == 5 && summary.bestEpoch == 3 && model.weight.value == kept)
        // Clipping: one step of SGD with rate 1 moves the parameters by at most the clip norm.
        let (clipped, _, _) = regression(seed: 9)
        let before = clipped.parameters.map(\.variable.value)
        var one = TrainingLoop(epochCount: 1, gradientClipNorm: 0.25)
        try one.run(
            clipped, optimizer: SGD(clipped.parameters.map(\.variable), learningRate: 1),
            epoch: { _ in EpochBatches(inputs: [0]) { _ in (x, y * 100) } },
            loss: { batch, _ in Loss.meanSquaredError(clipped(Variable(batch.0)), batch.1) })
        let moved = zip(before, clipped.parameters.map(\.variable.value)).map { old, new in
            zip(old.scalars, new.scalars).reduce(Float(0)) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
        }.reduce(0, +).squareRoot()
        #expect(moved > 0.2 && moved <= 0.25 + 1e-5)
    }

    @Test func checkpointsAfterEachEpoch() throws {
        let (model, x, y) = regression()
        let folder = TemporaryDirectory()
        var loop = TrainingLoop(epochCount: 2, checkpointPath: folder.path + "/c.safetensors")
        try loop.run(
            model, optimizer: SGD(model.parameters.map(\.variable), learningRate: 0.05), epoch: epoch(x, y),
            loss: { batch, _ in Loss.meanSquaredError(model(Variable(batch.0)), batch.1) })
        let restored = Linear(1, 1, seed: 99)
        #expect(try Checkpoint.load(into: restored, from: folder.path + "/c.safetensors") == ["epoch": "2"])
        #expect(restored.weight.value == model.weight.value)
    }
}

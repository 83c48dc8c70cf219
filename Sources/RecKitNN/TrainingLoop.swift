import Foundation
import RecKitTensor

/// The one training loop of every neural model: for each epoch, batches prepared on a background
/// thread (`Prefetcher`), the model's loss, backward, optional gradient clipping and learning-rate
/// schedule, the optimiser's step; a check that the loss is finite; progress after each epoch;
/// optional early stopping on a validation metric (keeping the best epoch's parameters) and a
/// checkpoint after each epoch.
///
/// A model brings its network, how an epoch's batches are made and its loss (Spotlight's split of
/// "representation" and training loop):
///
/// ```swift
/// var loop = TrainingLoop(epochCount: 20)
/// try loop.run(network, optimizer: adam, context: context,
///              epoch: { epoch in EpochBatches(inputs: schedule.batches(epoch: epoch)) { rows in makeBatch(rows) } },
///              loss: { batch, step in network.loss(batch) })
/// ```
public struct TrainingLoop {
    public var epochCount: Int
    /// Rescale gradients to this global L2 norm when larger (nil: no clipping).
    public var gradientClipNorm: Float?
    /// The learning rate at each step (nil: the optimiser's own, fixed).
    public var learningRateSchedule: LearningRateSchedule?
    /// Stop when the validation metric stops improving; the best epoch's parameters are kept.
    public var earlyStopping: EarlyStopping?
    /// Where to write the network's parameters after each epoch (safetensors), if anywhere.
    public var checkpointPath: String?
    /// Batches prepared ahead of the step on a background thread; 0 prepares each on the caller's
    /// thread (for tiny loops, such as a fold-in, where a thread per epoch costs more than it saves).
    public var prefetchDepth = 2
    /// When the optimiser steps: after every batch, or once per epoch on the gradient summed over
    /// the epoch's batches (full-batch training, e.g. Rprop, in batches that bound the memory).
    public var update = UpdateFrequency.everyBatch

    public enum UpdateFrequency: Sendable, Equatable {
        case everyBatch
        case everyEpoch
    }

    public init(
        epochCount: Int, gradientClipNorm: Float? = nil, learningRateSchedule: LearningRateSchedule? = nil,
        earlyStopping: EarlyStopping? = nil, checkpointPath: String? = nil
    ) {
        precondition(epochCount > 0, "a training loop needs at least one epoch")
        self.epochCount = epochCount
        self.gradientClipNorm = gradientClipNorm
        self.learningRateSchedule = learningRateSchedule
        self.earlyStopping = earlyStopping
        self.checkpointPath = checkpointPath
    }

    /// What a run did.
    public struct Summary: Sendable, Equatable {
        /// Epochs run (fewer than asked when early stopping ended the run).
        public var epochs: Int
        /// Optimiser steps taken.
        public var steps: Int
        /// Each epoch's mean loss (with `.everyEpoch` updates, the sum of its batches' losses).
        public var losses: [Float]
        /// The epoch (1-based) whose parameters were kept, with early stopping.
        public var bestEpoch: Int?
    }

    /// Trains `network`.
    /// - Parameters:
    ///   - epoch: the epoch's batch inputs and how to turn one into a batch (run on a background
    ///     thread, so it must not draw from the caller's generators); called once per epoch, in order.
    ///   - loss: the batch's loss (a scalar) and the 0-based step; randomness that belongs to the
    ///     forward pass (dropout, sampling) happens here, on the caller's thread.
    ///   - validate: measured after each epoch when early stopping is on.
    /// - Throws: `FitError.nonFiniteLoss` naming the epoch and batch, `FitError.cancelled`, or a
    ///   checkpoint that cannot be written (as `FitError.checkpoint`).
    @discardableResult
    public mutating func run<Input: Sendable, Batch: Sendable>(
        _ network: some Module, optimizer: any Optimizer, context: TrainingContext = TrainingContext(),
        epoch makeEpoch: (_ epoch: Int) -> EpochBatches<Input, Batch>,
        loss: (_ batch: Batch, _ step: Int) -> Variable,
        validate: ((_ epoch: Int) -> ValidationMeasurement)? = nil
    ) throws(FitError) -> Summary {
        network.setTraining(true)
        defer { network.setTraining(false) }
        let parameters = optimizer.parameters
        var summary = Summary(epochs: 0, steps: 0, losses: [], bestEpoch: nil)
        var best: [String: Tensor]?
        for epoch in 0..<epochCount {
            let plan = makeEpoch(epoch)
            let batches = EpochIterator(plan, prefetchDepth: prefetchDepth)
            var lossSum = 0.0
            var batchCount = 0
            let perBatch = update == .everyBatch
            if !perBatch { optimizer.zeroGradients() }
            while let batch = batches.next() {
                if let learningRateSchedule { optimizer.learningRate = learningRateSchedule.rate(at: summary.steps) }
                if perBatch { optimizer.zeroGradients() }
                let value = loss(batch, summary.steps)
                let scalar = value.value.scalar
                guard scalar.isFinite else {
                    batches.cancel()
                    throw .nonFiniteLoss(epoch: epoch + 1, batch: batchCount + 1)
                }
                value.backward()
                if perBatch {
                    if let gradientClipNorm { clipGradientNorm(parameters, maxNorm: gradientClipNorm) }
                    optimizer.step()
                    summary.steps += 1
                }
                lossSum += Double(scalar)
                batchCount += 1
                if context.cancellation?.isCancelled == true {
                    batches.cancel()
                    throw .cancelled
                }
            }
            if !perBatch && batchCount > 0 {
                if let gradientClipNorm { clipGradientNorm(parameters, maxNorm: gradientClipNorm) }
                optimizer.step()
                summary.steps += 1
            }
            summary.epochs = epoch + 1
            // The epoch's objective is the sum of its batches' losses when they share one update.
            let meanLoss = Float(perBatch ? lossSum / Double(max(1, batchCount)) : lossSum)
            summary.losses.append(meanLoss)
            var measurement: ValidationMeasurement?
            var stop = false
            if var stopping = earlyStopping, let validate {
                network.setTraining(false)
                let measured = validate(epoch)
                network.setTraining(true)
                measurement = measured
                if stopping.record(measured.value, epoch: epoch + 1) {
                    best = network.namedValues
                    summary.bestEpoch = epoch + 1
                }
                stop = stopping.shouldStop
                earlyStopping = stopping
            }
            if let checkpointPath {
                do { try Checkpoint.save(network, to: checkpointPath, metadata: ["epoch": String(epoch + 1)]) } catch {
                    throw .checkpoint("\(checkpointPath): \(error)")
                }
            }
            try context.report(
                TrainingUpdate(
                    step: epoch + 1, total: epochCount, loss: meanLoss, validation: measurement,
                    best: earlyStopping.flatMap { stopping in stopping.best.map { ($0, stopping.bestEpoch ?? 0) } }))
            if stop { break }
        }
        if let best { network.load(best) }
        return summary
    }
}

/// One epoch's batch inputs (e.g. example indices) and the function that turns an input into a batch.
public struct EpochBatches<Input: Sendable, Batch: Sendable> {
    public var inputs: [Input]
    public var prepare: @Sendable (Input) -> Batch

    public init(inputs: [Input], prepare: @escaping @Sendable (Input) -> Batch) {
        self.inputs = inputs
        self.prepare = prepare
    }
}

/// An epoch's batches, prepared ahead on a background thread (`Prefetcher`) or, with depth 0, inline.
final class EpochIterator<Input: Sendable, Batch: Sendable> {
    private let prefetcher: Prefetcher<Batch>?
    private var inputs: IndexingIterator<[Input]>
    private let prepare: @Sendable (Input) -> Batch

    init(_ plan: EpochBatches<Input, Batch>, prefetchDepth: Int) {
        prefetcher = prefetchDepth > 0 ? Prefetcher(plan.inputs, depth: prefetchDepth, prepare: plan.prepare) : nil
        inputs = (prefetcher == nil ? plan.inputs : []).makeIterator()
        prepare = plan.prepare
    }

    func next() -> Batch? {
        if let prefetcher { return prefetcher.next() }
        return inputs.next().map(prepare)
    }

    func cancel() { prefetcher?.cancel() }
}

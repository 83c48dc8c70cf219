import Foundation

/// Progress of a model's training: pass `step` of `total` done (1-based), with the pass's mean loss
/// for models that compute one and a validation metric when one is tracked. The one progress type
/// every model reports through; the command line turns it into a bar.
public struct TrainingUpdate: Sendable, Equatable {
    public var step: Int
    public var total: Int
    public var loss: Float?
    /// A validation metric measured after this pass (`ndcg@10`, 0.41), for early stopping.
    public var validation: ValidationMeasurement?
    /// With early stopping: the best validation value so far and its pass.
    public var best: (value: Double, step: Int)? {
        get { bestValue.flatMap { value in bestStep.map { (value, $0) } } }
        set { (bestValue, bestStep) = (newValue?.value, newValue?.step) }
    }
    var bestValue: Double?, bestStep: Int?

    public init(
        step: Int, total: Int, loss: Float? = nil, validation: ValidationMeasurement? = nil,
        best: (value: Double, step: Int)? = nil
    ) {
        self.step = step
        self.total = total
        self.loss = loss
        self.validation = validation
        self.best = best
    }
}

/// A named validation metric's value.
public struct ValidationMeasurement: Sendable, Equatable {
    public var name: String
    public var value: Double
    public init(name: String, value: Double) {
        self.name = name
        self.value = value
    }
}

/// Why a fit stopped without a model.
public enum FitError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The loss became NaN or infinite (a learning rate too high, usually).
    case nonFiniteLoss(epoch: Int, batch: Int)
    /// `Cancellation.cancel()` was called.
    case cancelled
    /// A checkpoint could not be written.
    case checkpoint(String)

    public var description: String {
        switch self {
        case .nonFiniteLoss(let epoch, let batch):
            return "the loss is not finite at epoch \(epoch), batch \(batch); lower the learning rate or check the data"
        case .cancelled:
            return "training was cancelled"
        case .checkpoint(let message):
            return "cannot write the checkpoint \(message)"
        }
    }
}

/// A flag another thread sets to stop a running fit at its next pass or batch.
public final class Cancellation: @unchecked Sendable { // the flag is guarded by the lock
    private let lock = NSLock()
    private var flag = false
    public init() {}
    public func cancel() { lock.withLock { flag = true } }
    public var isCancelled: Bool { lock.withLock { flag } }
}

/// What a fit gets besides the data and its configuration: worker threads, where progress goes
/// and a way to stop it. Per-call knobs, never saved with a model.
public struct TrainingContext {
    /// Worker threads; nil is the model's own default (all cores, or 1 for Hogwild SGD so that a
    /// library call is repeatable bit for bit).
    public var threadCount: Int?
    public var progress: ((TrainingUpdate) -> Void)?
    public var cancellation: Cancellation?

    public init(threadCount: Int? = nil, cancellation: Cancellation? = nil, progress: ((TrainingUpdate) -> Void)? = nil)
    {
        self.threadCount = threadCount
        self.cancellation = cancellation
        self.progress = progress
    }

    /// `threadCount`, or `modelDefault` when not set.
    public func threads(default modelDefault: Int) -> Int { threadCount ?? modelDefault }

    /// Reports pass `step` of `total`.
    /// - Throws: `FitError.cancelled` when the fit was cancelled.
    public func report(_ update: TrainingUpdate) throws(FitError) {
        progress?(update)
        try checkCancellation()
    }

    /// - Throws: `FitError.cancelled` when the fit was cancelled.
    public func checkCancellation() throws(FitError) {
        if cancellation?.isCancelled == true { throw .cancelled }
    }
}

import Foundation
import RecKitData
import RecKitNN
import RecKitTensor

/// A validation part cut from a model's training data, so that a model trained epoch by epoch can
/// choose its epoch count on data it does not train on, never on the test split: the model trains
/// on `fit` with early stopping measured on `heldOut`, then trains again on all of its training
/// data for the best epoch count (`EpochChoice`).
///
/// Rating models are measured by RMSE on a random `fraction` of the ratings; top-N models by NDCG@10
/// on a per-user holdout (`fraction` of each user's items, users with at least 5; the held-out items
/// are the relevant ones, the user's `fit` items are excluded), the protocol of RecKit's holdout splits.
public struct ValidationHoldout: Sendable {
    public enum Target: Sendable, Equatable {
        /// RMSE of predicted ratings (lower is better).
        case ratings
        /// NDCG@10 of the full ranking (higher is better).
        case ranking
    }

    public let fit: Interactions
    public let heldOut: Interactions
    public let target: Target
    /// For ranking: the validation users, their held-out items, and their fit items to exclude.
    let users: [Int32]
    let relevant: [Set<Int32>]
    let seen: InteractionMatrix

    /// - Throws: `ConfigError` (key `validation`) when the cut leaves nothing to validate on.
    public init(_ train: Interactions, fraction: Double, seed: UInt64, target: Target, model: String)
        throws(ConfigError)
    {
        let method: SplitMethod =
            target == .ratings ? .random(testFraction: fraction) : .holdout(testFraction: fraction, minimumPerUser: 5)
        do { (fit, heldOut) = try train.split(method, seed: seed) } catch {
            throw ConfigError(model: model, key: "validation", "cannot cut a validation part: \(error)")
        }
        guard heldOut.count > 0 else {
            throw ConfigError(
                model: model, key: "validation",
                "a \(fraction) validation part of \(train.count) interactions is empty; raise it or set 0")
        }
        self.target = target
        var byUser = [Set<Int32>](repeating: [], count: train.userCount)
        for row in 0..<heldOut.count { byUser[Int(heldOut.users[row])].insert(heldOut.items[row]) }
        users = (0..<Int32(train.userCount)).filter { !byUser[Int($0)].isEmpty }
        relevant = users.map { byUser[Int($0)] }
        seen = InteractionMatrix.byUser(fit)
    }

    /// Early stopping in the metric's direction.
    public func earlyStopping(patience: Int) -> EarlyStopping {
        EarlyStopping(patience: patience, higherIsBetter: target == .ranking)
    }

    /// RMSE of `predict(user, item)` over the held-out ratings.
    public func rmse(_ predict: (Int32, Int32) -> Float) -> ValidationMeasurement {
        let predictions = (0..<heldOut.count).map { predict(heldOut.users[$0], heldOut.items[$0]) }
        return ValidationMeasurement(
            name: "validation rmse", value: Metrics.rmse(predictions: predictions, targets: heldOut.ratings ?? []))
    }

    /// Mean NDCG@10 over the validation users of the rankings made from `scores(users)` (a
    /// `[users, items]` matrix), each user's fit items excluded, ties to the lower item index.
    public func ndcg(_ scores: ([Int32]) -> Tensor) -> ValidationMeasurement {
        var total = 0.0
        var start = 0
        while start < users.count {
            let batch = Array(users[start..<min(users.count, start + 256)])
            let matrix = scores(batch)
            let excluded = batch.map { Array(seen.columns(inRow: Int($0))) }
            for (slot, list) in matrix.topKPerRow(min(10, matrix.shape[1]), excluding: excluded).enumerated() {
                total += Metrics.ndcg(ranked: list.map(\.index), relevant: relevant[start + slot], k: 10)
            }
            start += batch.count
        }
        return ValidationMeasurement(name: "validation ndcg@10", value: total / Double(max(1, users.count)))
    }
}

/// How a model trained epoch by epoch chooses its epoch count: with `fraction` > 0, `epochs` is the
/// most it may train; it trains on a `ValidationHoldout` with early stopping (`patience` checks
/// without improvement), then trains again on all of its training data for the best epoch count.
/// The model's saved configuration records that count as its `epochs`.
public struct EpochChoice: Sendable {
    public var fraction: Double
    public var patience: Int
    public var target: ValidationHoldout.Target

    public init(fraction: Double, patience: Int, target: ValidationHoldout.Target) {
        self.fraction = fraction
        self.patience = patience
        self.target = target
    }

    /// Chooses the epoch count (the key path `epochs` of `config`) and trains on all of `data` for it:
    /// `training(data, config, validation)` runs one training, returning its result and, with a
    /// validation part, its best epoch. Returns the configuration with the count trained, and that
    /// training's result — the one pattern every model trained epoch by epoch follows.
    public func fit<Config, Result>(
        _ config: Config, epochs: WritableKeyPath<Config, Int>, data: Interactions, seed: UInt64, model: String,
        training: (_ data: Interactions, _ config: Config, _ validation: ValidationHoldout?) throws -> (Result, Int?)
    ) throws -> (config: Config, result: Result) {
        var config = config
        config[keyPath: epochs] = try self.epochs(config[keyPath: epochs], train: data, seed: seed, model: model) {
            fit, validation in try training(fit, config, validation).1
        }
        return (config, try training(data, config, nil).0)
    }

    /// The epoch count to train on all of `train`: `epochs` itself without validation, else the best
    /// epoch of `train(fit, validation)` as the training loop reports it.
    public func epochs(
        _ epochs: Int, train data: Interactions, seed: UInt64, model: String,
        training: (_ fit: Interactions, _ validation: ValidationHoldout) throws -> Int?
    ) throws -> Int {
        guard fraction > 0 else { return epochs }
        let holdout = try ValidationHoldout(data, fraction: fraction, seed: seed, target: target, model: model)
        return try training(holdout.fit, holdout) ?? epochs
    }
}

extension ModelSetting {
    /// The validation fraction every epoch-trained model takes.
    public static let validation = ModelSetting.number(
        "validation", .from(0, below: 1),
        "fraction of the training data held out to choose the epoch count, then trained on (0: train all epochs)")
    public static let patience = ModelSetting.integer(
        "patience", .atLeast(1), "validation checks without improvement before training stops")
}

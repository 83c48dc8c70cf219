import RecKitData
import RecKitNN
import RecKitTensor

/// A next-item model whose state is a network's parameters and each training user's sequence (its
/// items in time order), scoring users from their own sequences: SASRec and the YouTube DNN. It
/// says what its network holds and how to train it; fitting (epochs chosen on validation, then all of the
/// data), saving, restoring and scoring users are written once here.
public protocol SequenceNetworkModel: SequenceValidatedModel where Config: SequenceEpochSettings {
    /// The trained network's values by name.
    var parameters: [String: Tensor] { get }
    /// Each training user's items in time order.
    var sequences: [[Int32]] { get }
    /// The model holding these trained values.
    init(config: Config, parameters: [String: Tensor], sequences: [[Int32]], itemCount: Int)
    /// The shapes of a network for `config`, by name (what a saved model must hold).
    static func parameterShapes(config: Config, itemCount: Int) -> [String: [Int]]
    /// One training on `data`: the network's values and, with a validation part, its best epoch.
    static func train(_ data: Interactions, config: Config, context: TrainingContext, validation: SequenceValidation?)
        throws -> (parameters: [String: Tensor], bestEpoch: Int?)
}

extension SequenceNetworkModel {
    public init(
        fitting train: Interactions, side: SideData, config: Config, context: TrainingContext,
        validation: SequenceValidation?
    ) throws {
        try Self.check(config)
        let (config, network) = try SequenceValidation.fit(
            train, config: config, validation: validation, model: Self.name
        ) { data, config, part in try Self.train(data, config: config, context: context, validation: part) }
        self.init(config: config, parameters: network, sequences: train.sequences(), itemCount: train.itemCount)
    }

    public init(restoring config: Config, weights: ModelWeights, userCount: Int, itemCount: Int) throws(RestoreError) {
        let shapes = Self.parameterShapes(config: config, itemCount: itemCount)
        self.init(
            config: config, parameters: try weights.parameters(shapes: shapes),
            sequences: try weights.sequences("sequences", count: userCount, itemCount: itemCount), itemCount: itemCount)
    }

    public func save(into weights: inout ModelWeights) {
        weights.store(parameters: parameters)
        weights.store(sequences: sequences, as: "sequences")
    }

    /// A training user scores from their own sequence (an unknown one from nothing).
    public func scores(forUsers users: [Int32]) -> Tensor {
        scores(forHistories: users.map { Int($0) < sequences.count ? sequences[Int($0)] : [] })
    }

    public func scores(forHistory history: [Int32]) -> [Float] { scores(forHistories: [history]).scalars }
}

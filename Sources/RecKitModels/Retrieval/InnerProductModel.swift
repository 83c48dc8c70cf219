import RecKitData
import RecKitNN
import RecKitTensor

/// A model whose score is the inner product of a user vector and an item vector (an item bias, if
/// any, is a column the user side holds 1 in): retrieval by maximum inner product, and what the
/// `content` model learns item vectors for.
public protocol InnerProductModel: Recommender {
    /// `[itemCount, width]`.
    var itemVectors: Tensor { get }
    /// `[users.count, width]`: training users' vectors.
    func userVectors(forUsers users: [Int32]) -> Tensor
    /// `[histories.count, width]`: vectors of users known by a history of items (fold-in).
    func userVectors(forHistories histories: [[Int32]]) -> Tensor
}

extension ImplicitALS: InnerProductModel {
    public var itemVectors: Tensor { factors.itemFactors }
    public func userVectors(forUsers users: [Int32]) -> Tensor { factors.userFactors.gathering(rows: users) }
    public func userVectors(forHistories histories: [[Int32]]) -> Tensor {
        Tensor(shape: [histories.count, config.factorCount], scalars: histories.flatMap(foldIn))
    }
}

extension YouTubeDNN: InnerProductModel {
    /// The output vectors with the biases as a last column.
    public var itemVectors: Tensor { network.itemVectors }

    public func userVectors(forUsers users: [Int32]) -> Tensor {
        userVectors(forHistories: users.map { Int($0) < sequences.count ? sequences[Int($0)] : [] })
    }

    /// The tower's output for each history (age zero, as served) and a column of ones for the bias.
    public func userVectors(forHistories histories: [[Int32]]) -> Tensor {
        let towers = GradientRecording.disabled { network.userVectors(histories: histories) }
        return Tensor.concatenatingColumns([towers, Tensor(repeating: 1, shape: [histories.count, 1])])
    }
}

/// A model that takes items it was not trained with from their metadata alone (a title, genres,
/// tags, a year): `reckit items add`.
public protocol ItemAddingModel: TrainableRecommender {
    /// The model with `catalog`'s items appended after its own (indices `itemCount…`).
    func addingItems(_ catalog: ItemCatalog) -> Self
}

extension ContentModel: ItemAddingModel {}

extension ItemAddingModel {
    fileprivate func addingAnyItems(_ catalog: ItemCatalog) -> any TrainableRecommender { addingItems(catalog) }
}

extension TrainableRecommender {
    /// Whether the model takes items from metadata after training (`ItemAddingModel`).
    public static var takesNewItems: Bool { self is any ItemAddingModel.Type }

    /// The model with `catalog`'s items appended, when it takes new items (nil otherwise).
    public func addingItems(from catalog: ItemCatalog) -> (any TrainableRecommender)? {
        (self as? any ItemAddingModel)?.addingAnyItems(catalog)
    }
}

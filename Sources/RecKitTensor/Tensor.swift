/// A dense Float32 array with a shape, stored row-major; a value type (the storage is an `Array`,
/// which is already copy-on-write).
///
/// This is the start of the tensor that the deep-learning engine grows; today it carries score
/// matrices between models and evaluators.
public struct Tensor: Sendable, Equatable {
    public private(set) var shape: [Int]
    public var scalars: [Float]

    /// - Precondition: the product of `shape` equals `scalars.count`.
    public init(shape: [Int], scalars: [Float]) {
        precondition(shape.allSatisfy { $0 >= 0 } && shape.reduce(1, *) == scalars.count,
            "Tensor: \(scalars.count) scalars do not fill shape \(shape)")
        self.shape = shape
        self.scalars = scalars
    }

    /// A tensor of `shape` filled with `value`.
    public init(repeating value: Float, shape: [Int]) {
        self.init(shape: shape, scalars: [Float](repeating: value, count: shape.reduce(1, *)))
    }

    public var scalarCount: Int { scalars.count }

    /// Row `index` of a 2-D tensor.
    public func row(_ index: Int) -> ArraySlice<Float> {
        precondition(shape.count == 2 && index >= 0 && index < shape[0], "row \(index) of a tensor shaped \(shape)")
        return scalars[(index * shape[1])..<((index + 1) * shape[1])]
    }

    /// The top `k` columns of each row of a 2-D tensor, best first, never listing a column in that
    /// row's `excluding` set; ties go to the lower column index.
    /// - Complexity: O(columns · log k) per row, with a bounded heap (no full sort).
    public func topKPerRow(_ k: Int, excluding: [[Int32]] = []) -> [[ScoredIndex]] {
        precondition(shape.count == 2, "topKPerRow needs a 2-D tensor, not \(shape)")
        precondition(excluding.isEmpty || excluding.count == shape[0], "one exclusion list per row")
        let columns = shape[1]
        return scalars.withUnsafeBufferPointer { buffer in
            (0..<shape[0]).map { row in
                TopK.select(
                    UnsafeBufferPointer(rebasing: buffer[(row * columns)..<((row + 1) * columns)]), k: k,
                    excluding: excluding.isEmpty ? [] : excluding[row])
            }
        }
    }
}

/// An index with its score, as top-k selection returns them.
public struct ScoredIndex: Sendable, Equatable, Hashable {
    public var index: Int32
    public var score: Float
    public init(index: Int32, score: Float) {
        self.index = index
        self.score = score
    }
}

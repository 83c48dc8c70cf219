import Foundation

extension Tensor {
    /// The transpose of a 2-D tensor.
    public func transposed() -> Tensor {
        precondition(rank == 2, "transposed() needs a 2-D tensor, not \(shape)")
        return permuted([1, 0])
    }

    /// The axes reordered: result axis i is this tensor's axis `axes[i]`.
    public func permuted(_ axes: [Int]) -> Tensor {
        precondition(axes.sorted() == Array(0..<rank), "permutation \(axes) of a rank-\(rank) tensor")
        if axes == [1, 0] { return transposedInBlocks() }
        let newShape = axes.map { shape[$0] }
        var strides = [Int](repeating: 1, count: rank)
        for axis in stride(from: rank - 2, through: 0, by: -1) { strides[axis] = strides[axis + 1] * shape[axis + 1] }
        let sourceStrides = axes.map { strides[$0] }
        var result = [Float](unsafeUninitializedCapacity: scalars.count) { _, n in n = scalars.count }
        var cursor = StridedCursor(shape: newShape, first: sourceStrides)
        for index in 0..<scalars.count {
            result[index] = scalars[cursor.firstOffset]
            cursor.advance()
        }
        return Tensor(shape: newShape, scalars: result)
    }

    /// A 2-D transpose in 32 × 32 tiles, so that reads and writes both stay in cache.
    func transposedInBlocks() -> Tensor {
        let (rows, columns) = (shape[0], shape[1])
        let tile = 32
        var result = [Float](unsafeUninitializedCapacity: scalars.count) { _, n in n = scalars.count }
        scalars.withUnsafeBufferPointer { source in
            result.withUnsafeMutableBufferPointer { target in
                for rowStart in stride(from: 0, to: rows, by: tile) {
                    for columnStart in stride(from: 0, to: columns, by: tile) {
                        for row in rowStart..<min(rows, rowStart + tile) {
                            for column in columnStart..<min(columns, columnStart + tile) {
                                target[column * rows + row] = source[row * columns + column]
                            }
                        }
                    }
                }
            }
        }
        return Tensor(shape: [columns, rows], scalars: result)
    }
}

import Foundation

extension Tensor {
    /// A `[rowCount, columns]` tensor holding the sum of the rows of `values` sent to `indices`
    /// (the adjoint of `gathering(rows:)`).
    public static func scatterAdding(rows values: Tensor, at indices: [Int32], rowCount: Int) -> Tensor {
        precondition(
            values.rank == 2 && values.shape[0] == indices.count,
            "scatterAdding: \(values.shape) rows for \(indices.count) indices")
        let columns = values.shape[1]
        var result = [Float](repeating: 0, count: rowCount * columns)
        values.scalars.withUnsafeBufferPointer { v in
            result.withUnsafeMutableBufferPointer { r in
                for (row, index) in indices.enumerated() {
                    precondition(index >= 0 && Int(index) < rowCount, "row \(index) of \(rowCount)")
                    VectorKernels.axpy(
                        1, v.baseAddress! + row * columns, r.baseAddress! + Int(index) * columns, count: columns)
                }
            }
        }
        return Tensor(shape: [rowCount, columns], scalars: result)
    }

    /// 2-D tensors side by side: `[n, a] ++ [n, b] → [n, a + b]`.
    public static func concatenatingColumns(_ parts: [Tensor]) -> Tensor {
        precondition(
            !parts.isEmpty && parts.allSatisfy { $0.rank == 2 && $0.shape[0] == parts[0].shape[0] },
            "concatenatingColumns: \(parts.map(\.shape))")
        let rows = parts[0].shape[0]
        let width = parts.reduce(0) { $0 + $1.shape[1] }
        var result = [Float](repeating: 0, count: rows * width)
        var offset = 0
        for part in parts {
            let w = part.shape[1]
            for row in 0..<rows {
                for j in 0..<w { result[row * width + offset + j] = part.scalars[row * w + j] }
            }
            offset += w
        }
        return Tensor(shape: [rows, width], scalars: result)
    }

    /// Columns `range` of a 2-D tensor.
    public func columns(_ range: Range<Int>) -> Tensor {
        precondition(rank == 2 && range.lowerBound >= 0 && range.upperBound <= shape[1], "columns \(range) of \(shape)")
        let rows = shape[0]
        let width = shape[1]
        var result: [Float] = []
        result.reserveCapacity(rows * range.count)
        for row in 0..<rows {
            result.append(contentsOf: scalars[(row * width + range.lowerBound)..<(row * width + range.upperBound)])
        }
        return Tensor(shape: [rows, range.count], scalars: result)
    }

    /// The largest absolute difference to `other` (same shape).
    public func maxAbsoluteDifference(_ other: Tensor) -> Float {
        precondition(shape == other.shape, "maxAbsoluteDifference: \(shape) and \(other.shape)")
        return zip(scalars, other.scalars).reduce(0) { max($0, abs($1.0 - $1.1)) }
    }

    /// `[count, row.count]`, every row equal to `row` (a score list shared by every user).
    public init(repeatingRow row: [Float], count: Int) {
        var scalars: [Float] = []
        scalars.reserveCapacity(count * row.count)
        for _ in 0..<count { scalars.append(contentsOf: row) }
        self.init(shape: [count, row.count], scalars: scalars)
    }
}

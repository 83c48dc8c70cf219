import Foundation

extension Tensor {
    /// The sum of all elements (accumulated in Double, then rounded once).
    public func sum() -> Float {
        let total: Double = scalars.withUnsafeBufferPointer { a in
            var total = 0.0
            for value in a { total += Double(value) }
            return total
        }
        return Float(total)
    }

    public func mean() -> Float { scalars.isEmpty ? .nan : sum() / Float(scalars.count) }

    /// Sums along `axis`, which stays with size 1.
    public func sum(alongAxis axis: Int) -> Tensor {
        let axis = axis < 0 ? axis + rank : axis
        precondition(axis >= 0 && axis < rank, "axis \(axis) of a tensor shaped \(shape)")
        let outer = shape[..<axis].reduce(1, *)
        let length = shape[axis]
        let inner = shape[(axis + 1)...].reduce(1, *)
        var newShape = shape
        newShape[axis] = 1
        if inner == 1 {
            // Row sums (the last axis, or one followed by size-1 axes): sixteen partial sums per row.
            return Tensor(shape: newShape, scalars: rowReductions(width: length) { RowKernels.sum($1, count: length) })
        }
        var result = [Float](repeating: 0, count: outer * inner)
        scalars.withUnsafeBufferPointer { a in
            result.withUnsafeMutableBufferPointer { c in
                for o in 0..<outer {
                    for l in 0..<length {
                        let source = (o * length + l) * inner
                        for i in 0..<inner { c[o * inner + i] += a[source + i] }
                    }
                }
            }
        }
        return Tensor(shape: newShape, scalars: result)
    }

    /// Σ_j self[r, j]·other[r, j] for each row r of two equally shaped tensors, shaped like the
    /// rows with the last axis 1 (e.g. a multinomial likelihood's Σ counts·logits).
    public func rowDots(_ other: Tensor) -> Tensor {
        precondition(shape == other.shape, "rowDots: \(shape) and \(other.shape)")
        let width = shape.last ?? 1
        var newShape = shape
        if !newShape.isEmpty { newShape[newShape.count - 1] = 1 }
        let result: [Float] = other.scalars.withUnsafeBufferPointer { b in
            let pointers = ElementPointers(a: nil, b: b.baseAddress, c: nil)
            return rowReductions(width: width) { index, row in
                VectorKernels.dot(row, pointers.b! + index * width, count: width)
            }
        }
        return Tensor(shape: newShape, scalars: result)
    }

    public func mean(alongAxis axis: Int) -> Tensor {
        let length = shape[axis < 0 ? axis + rank : axis]
        return sum(alongAxis: axis) / Float(length)
    }

    /// The largest element along the last axis, which stays with size 1.
    public func maxAlongLastAxis() -> Tensor {
        let width = shape.last ?? 1
        let result = rowReductions(width: width) { RowKernels.max($1, count: width) }
        var newShape = shape
        if !newShape.isEmpty { newShape[newShape.count - 1] = 1 }
        return Tensor(shape: newShape, scalars: result)
    }

    /// log Σ exp along the last axis (stable: the row maximum is factored out), size 1 kept.
    public func logSumExpAlongLastAxis() -> Tensor {
        let width = shape.last ?? 1
        var newShape = shape
        if !newShape.isEmpty { newShape[newShape.count - 1] = 1 }
        let result = rowReductions(width: width) { _, row in
            let m = RowKernels.max(row, count: width)
            return m == -.infinity ? m : m + Foundation.log(RowKernels.sumOfExponentials(row, count: width, minus: m))
        }
        return Tensor(shape: newShape, scalars: result)
    }

    /// Softmax along the last axis (stable).
    public func softmaxAlongLastAxis() -> Tensor {
        let width = shape.last ?? 1
        var result = scalars
        let rows = width == 0 ? 0 : scalars.count / width
        result.withUnsafeMutableBufferPointer { r in
            let pointers = ElementPointers(a: nil, b: nil, c: r.baseAddress)
            Tensor.forEachRowRange(rows: rows, width: width) { range in
                for row in range {
                    let values = pointers.c! + row * width
                    let m = RowKernels.max(values, count: width)
                    let inverse = 1 / RowKernels.sumOfExponentials(values, count: width, minus: m, writingTo: values)
                    for j in 0..<width { values[j] *= inverse }
                }
            }
        }
        return Tensor(shape: shape, scalars: result)
    }

    /// log softmax along the last axis: x − logΣexp(x).
    public func logSoftmaxAlongLastAxis() -> Tensor { self - logSumExpAlongLastAxis() }
}

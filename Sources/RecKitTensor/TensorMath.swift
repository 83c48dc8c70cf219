import Foundation

// Element-wise arithmetic with NumPy broadcasting, reductions, and the row-wise functions of
// neural networks (softmax, log-sum-exp), on `Tensor`. Hot paths (equal shapes, a scalar, a
// row vector against a matrix) run as plain contiguous loops the compiler vectorises; any other
// broadcast walks the result with per-operand strides.

/// Operand and result pointers shared by the chunks of one element-wise operation; each chunk
/// writes only its own range of `c`.
struct ElementPointers: @unchecked Sendable {
    let a: UnsafePointer<Float>?
    let b: UnsafePointer<Float>?
    let c: UnsafeMutablePointer<Float>?
}

/// A row-major walk over the multi-indices of `shape`, carrying the linear offsets of two operands
/// laid out with their own strides (0 along broadcast axes): an odometer over the axes.
struct StridedCursor {
    let shape: [Int]
    let first: [Int], second: [Int]
    var counter: [Int]
    var firstOffset = 0, secondOffset = 0

    init(shape: [Int], first: [Int], second: [Int]? = nil) {
        self.shape = shape
        self.first = first
        self.second = second ?? [Int](repeating: 0, count: shape.count)
        counter = [Int](repeating: 0, count: shape.count)
    }

    /// Moves to the next multi-index.
    @inline(__always)
    mutating func advance() {
        var axis = shape.count - 1
        while axis >= 0 {
            counter[axis] += 1
            firstOffset += first[axis]
            secondOffset += second[axis]
            if counter[axis] < shape[axis] { return }
            firstOffset -= first[axis] * shape[axis]
            secondOffset -= second[axis] * shape[axis]
            counter[axis] = 0
            axis -= 1
        }
    }
}

extension Tensor {
    /// A tensor of zeros.
    public static func zeros(_ shape: [Int]) -> Tensor { Tensor(repeating: 0, shape: shape) }

    /// A single number, shape `[]`.
    public init(scalar: Float) { self.init(shape: [], scalars: [scalar]) }

    public var rank: Int { shape.count }

    /// The same scalars under another shape with as many elements.
    public func reshaped(_ newShape: [Int]) -> Tensor { Tensor(shape: newShape, scalars: scalars) }

    /// The only scalar of a one-element tensor.
    public var scalar: Float {
        precondition(scalars.count == 1, "scalar of a tensor shaped \(shape)")
        return scalars[0]
    }

    /// The shape two operands broadcast to, or nil when they do not (NumPy rules: align the trailing
    /// dimensions; each pair must be equal or contain a 1).
    public static func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int]? {
        let rank = max(a.count, b.count)
        var result = [Int](repeating: 1, count: rank)
        for axis in 0..<rank {
            let x = axis < rank - a.count ? 1 : a[axis - (rank - a.count)]
            let y = axis < rank - b.count ? 1 : b[axis - (rank - b.count)]
            guard x == y || x == 1 || y == 1 else { return nil }
            result[axis] = max(x, y)
        }
        return result
    }

    /// Strides of `shape` inside `target` (0 along broadcast axes), target-rank long.
    static func broadcastStrides(_ shape: [Int], in target: [Int]) -> [Int] {
        var strides = [Int](repeating: 0, count: target.count)
        var step = 1
        for axis in stride(from: shape.count - 1, through: 0, by: -1) {
            let targetAxis = axis + target.count - shape.count
            strides[targetAxis] = shape[axis] == 1 ? 0 : step
            step *= shape[axis]
        }
        return strides
    }

    /// `op(self, other)` element by element, broadcasting.
    @inline(__always)
    func combined(with other: Tensor, _ op: @escaping @Sendable (Float, Float) -> Float) -> Tensor {
        if shape == other.shape {
            var result = [Float](unsafeUninitializedCapacity: scalars.count) { _, count in count = scalars.count }
            scalars.withUnsafeBufferPointer { a in
                other.scalars.withUnsafeBufferPointer { b in
                    result.withUnsafeMutableBufferPointer { c in
                        let pointers = ElementPointers(a: a.baseAddress, b: b.baseAddress, c: c.baseAddress)
                        Tensor.forEachRange(count: c.count) { range in
                            for index in range { pointers.c![index] = op(pointers.a![index], pointers.b![index]) }
                        }
                    }
                }
            }
            return Tensor(shape: shape, scalars: result)
        }
        guard let target = Tensor.broadcastShape(shape, other.shape) else {
            preconditionFailure("shapes \(shape) and \(other.shape) do not broadcast")
        }
        let count = target.reduce(1, *)
        var result = [Float](unsafeUninitializedCapacity: count) { _, n in n = count }
        if other.scalars.count == 1 && target == shape {
            let y = other.scalars[0]
            scalars.withUnsafeBufferPointer { a in
                result.withUnsafeMutableBufferPointer { c in for index in 0..<count { c[index] = op(a[index], y) } }
            }
            return Tensor(shape: target, scalars: result)
        }
        if scalars.count == 1 && target == other.shape {
            let x = scalars[0]
            other.scalars.withUnsafeBufferPointer { b in
                result.withUnsafeMutableBufferPointer { c in for index in 0..<count { c[index] = op(x, b[index]) } }
            }
            return Tensor(shape: target, scalars: result)
        }
        let aStrides = Tensor.broadcastStrides(shape, in: target), bStrides = Tensor.broadcastStrides(other.shape, in: target)
        let inner = target.last ?? 1
        let aInner = aStrides.last ?? 0, bInner = bStrides.last ?? 0
        let outerCount = inner == 0 ? 0 : count / inner
        // The outer axes (all but the last) walked by a cursor; the last one in the loops below.
        var cursor = StridedCursor(shape: Array(target.dropLast()), first: Array(aStrides.dropLast()), second: Array(bStrides.dropLast()))
        scalars.withUnsafeBufferPointer { a in
            other.scalars.withUnsafeBufferPointer { b in
                result.withUnsafeMutableBufferPointer { c in
                    for outer in 0..<outerCount {
                        let out = outer * inner, aBase = cursor.firstOffset, bBase = cursor.secondOffset
                        if aInner == 1 && bInner == 1 {
                            for j in 0..<inner { c[out + j] = op(a[aBase + j], b[bBase + j]) }
                        } else if aInner == 1 {
                            let y = b[bBase]
                            if bInner == 0 {
                                for j in 0..<inner { c[out + j] = op(a[aBase + j], y) }
                            } else {
                                for j in 0..<inner { c[out + j] = op(a[aBase + j], b[bBase + j * bInner]) }
                            }
                        } else if bInner == 1 && aInner == 0 {
                            let x = a[aBase]
                            for j in 0..<inner { c[out + j] = op(x, b[bBase + j]) }
                        } else {
                            for j in 0..<inner { c[out + j] = op(a[aBase + j * aInner], b[bBase + j * bInner]) }
                        }
                        cursor.advance()
                    }
                }
            }
        }
        return Tensor(shape: target, scalars: result)
    }

    /// `op(x)` for every element.
    /// Large tensors are cut into chunks on the worker threads (the result never depends on it).
    @inline(__always)
    public func map(_ op: @escaping @Sendable (Float) -> Float) -> Tensor {
        var result = [Float](unsafeUninitializedCapacity: scalars.count) { _, count in count = scalars.count }
        scalars.withUnsafeBufferPointer { a in
            result.withUnsafeMutableBufferPointer { c in
                let pointers = ElementPointers(a: a.baseAddress, b: nil, c: c.baseAddress)
                Tensor.forEachRange(count: c.count) { range in
                    for index in range { pointers.c![index] = op(pointers.a![index]) }
                }
            }
        }
        return Tensor(shape: shape, scalars: result)
    }

    /// `body(index, row)` for each row of `width` elements, the row's result: rows in chunks on the worker
    /// threads when there are 2¹⁸ elements or more (rows are independent, so the result never
    /// depends on it).
    @inline(__always)
    func rowReductions(width: Int, _ body: @escaping @Sendable (Int, UnsafePointer<Float>) -> Float) -> [Float] {
        let rows = width == 0 ? 0 : scalars.count / width
        var result = [Float](repeating: 0, count: rows)
        scalars.withUnsafeBufferPointer { a in
            result.withUnsafeMutableBufferPointer { c in
                let pointers = ElementPointers(a: a.baseAddress, b: nil, c: c.baseAddress)
                Tensor.forEachRowRange(rows: rows, width: width) { range in
                    for row in range { pointers.c![row] = body(row, pointers.a! + row * width) }
                }
            }
        }
        return result
    }

    /// Row ranges: inline below 2¹⁸ elements, else in chunks on the worker threads.
    @inline(__always)
    static func forEachRowRange(rows: Int, width: Int, _ body: @escaping @Sendable (Range<Int>) -> Void) {
        if rows * width < 1 << 18 || rows < 2 {
            body(0..<rows)
            return
        }
        let threads = Parallel.defaultThreadCount
        let chunks = Parallel.chunks(count: rows, chunkCount: min(rows, 4 * threads))
        Parallel.forEach(chunkCount: chunks.count, threadCount: threads) { body(chunks[$0]) }
    }

    /// Element-wise work: inline below 2¹⁸ elements, else in chunks on the worker threads.
    @inline(__always)
    static func forEachRange(count: Int, _ body: @escaping @Sendable (Range<Int>) -> Void) {
        if count < 1 << 18 {
            body(0..<count)
            return
        }
        let threads = Parallel.defaultThreadCount
        let chunks = Parallel.chunks(count: count, chunkCount: 4 * threads)
        Parallel.forEach(chunkCount: chunks.count, threadCount: threads) { body(chunks[$0]) }
    }

    public static func + (a: Tensor, b: Tensor) -> Tensor { a.combined(with: b, +) }
    public static func - (a: Tensor, b: Tensor) -> Tensor { a.combined(with: b, -) }
    public static func * (a: Tensor, b: Tensor) -> Tensor { a.combined(with: b, *) }
    public static func / (a: Tensor, b: Tensor) -> Tensor { a.combined(with: b, /) }
    public static func + (a: Tensor, b: Float) -> Tensor { a.map { $0 + b } }
    public static func - (a: Tensor, b: Float) -> Tensor { a.map { $0 - b } }
    public static func * (a: Tensor, b: Float) -> Tensor { a.map { $0 * b } }
    public static func * (a: Float, b: Tensor) -> Tensor { b.map { a * $0 } }
    public static func / (a: Tensor, b: Float) -> Tensor { a.map { $0 / b } }
    public static prefix func - (a: Tensor) -> Tensor { a.map { -$0 } }

    /// `self += other` for equal shapes, in place (gradient accumulation).
    public mutating func add(_ other: Tensor) {
        precondition(shape == other.shape, "add: \(shape) and \(other.shape)")
        scalars.withUnsafeMutableBufferPointer { a in
            other.scalars.withUnsafeBufferPointer { b in for index in 0..<a.count { a[index] += b[index] } }
        }
    }

    /// The sum of this (broadcast) tensor down to `target`, which must broadcast to this shape: the
    /// gradient of an operand that was broadcast.
    public func summed(toShape target: [Int]) -> Tensor {
        if target == shape { return self }
        let count = target.reduce(1, *)
        if count == 1 { return Tensor(shape: target, scalars: [sum()]) }
        let strides = Tensor.broadcastStrides(target, in: shape)
        var result = [Float](repeating: 0, count: count)
        let inner = shape.last ?? 1, innerStride = strides.last ?? 0
        let outerCount = inner == 0 ? 0 : scalars.count / inner
        var cursor = StridedCursor(shape: Array(shape.dropLast()), first: Array(strides.dropLast()))
        scalars.withUnsafeBufferPointer { a in
            result.withUnsafeMutableBufferPointer { c in
                for outer in 0..<outerCount {
                    let start = outer * inner, base = cursor.firstOffset
                    if innerStride == 1 {
                        for j in 0..<inner { c[base + j] += a[start + j] }
                    } else {
                        var total: Float = 0
                        for j in 0..<inner { total += a[start + j] }
                        c[base] += total
                    }
                    cursor.advance()
                }
            }
        }
        return Tensor(shape: target, scalars: result)
    }

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
        let outer = shape[..<axis].reduce(1, *), length = shape[axis], inner = shape[(axis + 1)...].reduce(1, *)
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
            return rowReductions(width: width) { index, row in VectorKernels.dot(row, pointers.b! + index * width, count: width) }
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

    /// The transpose of a 2-D tensor.
    public func transposed() -> Tensor {
        precondition(rank == 2, "transposed() needs a 2-D tensor, not \(shape)")
        return permuted([1, 0])
    }

    /// The axes reordered: result axis i is this tensor's axis `axes[i]`.
    public func permuted(_ axes: [Int]) -> Tensor {
        precondition(axes.sorted() == Array(0..<rank), "permutation \(axes) of a rank-\(rank) tensor")
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

    /// The matrix product with either operand transposed, through BLAS: `[m, k] · [k, n]`.
    public func matmul(_ other: Tensor, transposingSelf: Bool, transposingOther: Bool = false) -> Tensor {
        precondition(rank == 2 && other.rank == 2, "matmul needs 2-D tensors: \(shape) × \(other.shape)")
        let m = transposingSelf ? shape[1] : shape[0], k = transposingSelf ? shape[0] : shape[1]
        let n = transposingOther ? other.shape[0] : other.shape[1]
        precondition((transposingOther ? other.shape[1] : other.shape[0]) == k, "matmul: \(shape) × \(other.shape)")
        var result = [Float](unsafeUninitializedCapacity: m * n) { _, count in count = m * n }
        scalars.withUnsafeBufferPointer { a in
            other.scalars.withUnsafeBufferPointer { b in
                result.withUnsafeMutableBufferPointer { c in
                    if m > 0 && n > 0 {
                        BLAS.gemm(a.baseAddress!, b.baseAddress!, c.baseAddress!, m: m, n: n, k: k, transposeA: transposingSelf, transposeB: transposingOther)
                    }
                }
            }
        }
        return Tensor(shape: [m, n], scalars: result)
    }

    /// `self · weight + bias` for `[m, k] · [k, n] + [n]`: the bias rows are written first and the
    /// product added onto them by one BLAS call (no separate broadcast pass).
    public func affine(weight: Tensor, bias: Tensor) -> Tensor {
        precondition(rank == 2 && weight.rank == 2 && shape[1] == weight.shape[0] && bias.shape == [weight.shape[1]],
            "affine: \(shape) · \(weight.shape) + \(bias.shape)")
        let m = shape[0], k = shape[1], n = weight.shape[1]
        var result = [Float](unsafeUninitializedCapacity: m * n) { buffer, count in
            for row in 0..<m { _ = UnsafeMutableBufferPointer(rebasing: buffer[(row * n)..<((row + 1) * n)]).initialize(fromContentsOf: bias.scalars) }
            count = m * n
        }
        scalars.withUnsafeBufferPointer { a in
            weight.scalars.withUnsafeBufferPointer { b in
                result.withUnsafeMutableBufferPointer { c in
                    if m > 0 && n > 0 { BLAS.gemm(a.baseAddress!, b.baseAddress!, c.baseAddress!, m: m, n: n, k: k, transposeB: false, beta: 1) }
                }
            }
        }
        return Tensor(shape: [m, n], scalars: result)
    }

    /// Batched matrix products of 3-D tensors: `[b, m, k] · [b, k, n]` (either side transposed per
    /// batch entry), one BLAS call per entry.
    public func batchedMatmul(_ other: Tensor, transposingSelf: Bool = false, transposingOther: Bool = false) -> Tensor {
        precondition(rank == 3 && other.rank == 3 && shape[0] == other.shape[0], "batchedMatmul: \(shape) × \(other.shape)")
        let batch = shape[0]
        let m = transposingSelf ? shape[2] : shape[1], k = transposingSelf ? shape[1] : shape[2]
        let n = transposingOther ? other.shape[1] : other.shape[2]
        precondition((transposingOther ? other.shape[2] : other.shape[1]) == k, "batchedMatmul: \(shape) × \(other.shape)")
        let aSize = shape[1] * shape[2], bSize = other.shape[1] * other.shape[2]
        var result = [Float](repeating: 0, count: batch * m * n)
        scalars.withUnsafeBufferPointer { a in
            other.scalars.withUnsafeBufferPointer { b in
                result.withUnsafeMutableBufferPointer { c in
                    guard m > 0 && n > 0 else { return }
                    for entry in 0..<batch {
                        BLAS.gemm(a.baseAddress! + entry * aSize, b.baseAddress! + entry * bSize, c.baseAddress! + entry * m * n,
                                  m: m, n: n, k: k, transposeA: transposingSelf, transposeB: transposingOther)
                    }
                }
            }
        }
        return Tensor(shape: [batch, m, n], scalars: result)
    }

    /// A `[rowCount, columns]` tensor holding the sum of the rows of `values` sent to `indices`
    /// (the adjoint of `gathering(rows:)`).
    public static func scatterAdding(rows values: Tensor, at indices: [Int32], rowCount: Int) -> Tensor {
        precondition(values.rank == 2 && values.shape[0] == indices.count, "scatterAdding: \(values.shape) rows for \(indices.count) indices")
        let columns = values.shape[1]
        var result = [Float](repeating: 0, count: rowCount * columns)
        values.scalars.withUnsafeBufferPointer { v in
            result.withUnsafeMutableBufferPointer { r in
                for (row, index) in indices.enumerated() {
                    precondition(index >= 0 && Int(index) < rowCount, "row \(index) of \(rowCount)")
                    VectorKernels.axpy(1, v.baseAddress! + row * columns, r.baseAddress! + Int(index) * columns, count: columns)
                }
            }
        }
        return Tensor(shape: [rowCount, columns], scalars: result)
    }

    /// 2-D tensors side by side: `[n, a] ++ [n, b] → [n, a + b]`.
    public static func concatenatingColumns(_ parts: [Tensor]) -> Tensor {
        precondition(!parts.isEmpty && parts.allSatisfy { $0.rank == 2 && $0.shape[0] == parts[0].shape[0] }, "concatenatingColumns: \(parts.map(\.shape))")
        let rows = parts[0].shape[0], width = parts.reduce(0) { $0 + $1.shape[1] }
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
        let rows = shape[0], width = shape[1]
        var result: [Float] = []
        result.reserveCapacity(rows * range.count)
        for row in 0..<rows { result.append(contentsOf: scalars[(row * width + range.lowerBound)..<(row * width + range.upperBound)]) }
        return Tensor(shape: [rows, range.count], scalars: result)
    }

    /// The largest absolute difference to `other` (same shape).
    public func maxAbsoluteDifference(_ other: Tensor) -> Float {
        precondition(shape == other.shape, "maxAbsoluteDifference: \(shape) and \(other.shape)")
        return zip(scalars, other.scalars).reduce(0) { max($0, abs($1.0 - $1.1)) }
    }
}

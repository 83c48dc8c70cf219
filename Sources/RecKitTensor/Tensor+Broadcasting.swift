import Foundation

extension Tensor {
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
        let aStrides = Tensor.broadcastStrides(shape, in: target)
        let bStrides = Tensor.broadcastStrides(other.shape, in: target)
        let inner = target.last ?? 1
        let aInner = aStrides.last ?? 0
        let bInner = bStrides.last ?? 0
        let outerCount = inner == 0 ? 0 : count / inner
        // The outer axes (all but the last) walked by a cursor; the last one in the loops below.
        var cursor = StridedCursor(
            shape: Array(target.dropLast()), first: Array(aStrides.dropLast()), second: Array(bStrides.dropLast()))
        scalars.withUnsafeBufferPointer { a in
            other.scalars.withUnsafeBufferPointer { b in
                result.withUnsafeMutableBufferPointer { c in
                    for outer in 0..<outerCount {
                        let out = outer * inner
                        let aBase = cursor.firstOffset
                        let bBase = cursor.secondOffset
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
}

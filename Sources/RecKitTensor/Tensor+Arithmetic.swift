import Foundation

extension Tensor {
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
        let inner = shape.last ?? 1
        let innerStride = strides.last ?? 0
        let outerCount = inner == 0 ? 0 : scalars.count / inner
        var cursor = StridedCursor(shape: Array(shape.dropLast()), first: Array(strides.dropLast()))
        scalars.withUnsafeBufferPointer { a in
            result.withUnsafeMutableBufferPointer { c in
                for outer in 0..<outerCount {
                    let start = outer * inner
                    let base = cursor.firstOffset
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
}

import Foundation

// The Tensor operations live in Tensor+Broadcasting, +Arithmetic, +Reductions (with softmax), +Shape,
// +Products and +Rows. Element-wise arithmetic with NumPy broadcasting, reductions, and the row-wise functions of
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
}

import Foundation
import RecKitTensor

// The differentiable operations, each with its gradient rule beside its forward computation.
// Element-wise operations broadcast like `Tensor`; a broadcast input receives its gradient summed
// back to its own shape.

extension Variable {
    // MARK: Arithmetic

    public static func + (a: Variable, b: Variable) -> Variable {
        result(a.value + b.value, [a, b]) { g, x in
            x[0].accumulate(g.summed(toShape: x[0].shape))
            x[1].accumulate(g.summed(toShape: x[1].shape))
        }
    }

    public static func - (a: Variable, b: Variable) -> Variable {
        result(a.value - b.value, [a, b]) { g, x in
            x[0].accumulate(g.summed(toShape: x[0].shape))
            x[1].accumulate((-g).summed(toShape: x[1].shape))
        }
    }

    public static func * (a: Variable, b: Variable) -> Variable {
        result(a.value * b.value, [a, b]) { g, x in
            if x[0].requiresGradient { x[0].accumulate((g * x[1].value).summed(toShape: x[0].shape)) }
            if x[1].requiresGradient { x[1].accumulate((g * x[0].value).summed(toShape: x[1].shape)) }
        }
    }

    public static func / (a: Variable, b: Variable) -> Variable {
        result(a.value / b.value, [a, b]) { g, x in
            if x[0].requiresGradient { x[0].accumulate((g / x[1].value).summed(toShape: x[0].shape)) }
            if x[1].requiresGradient {
                x[1].accumulate((-g * x[0].value / (x[1].value * x[1].value)).summed(toShape: x[1].shape))
            }
        }
    }

    public static func + (a: Variable, b: Float) -> Variable { result(a.value + b, [a]) { g, x in x[0].accumulate(g) } }
    public static func - (a: Variable, b: Float) -> Variable { result(a.value - b, [a]) { g, x in x[0].accumulate(g) } }
    public static func * (a: Variable, b: Float) -> Variable {
        result(a.value * b, [a]) { g, x in x[0].accumulate(g * b) }
    }
    public static func * (a: Float, b: Variable) -> Variable { b * a }
    public static func / (a: Variable, b: Float) -> Variable { a * (1 / b) }
    public static prefix func - (a: Variable) -> Variable { a * -1 }
    /// `a + b` with a constant tensor (e.g. a mask), broadcasting.
    public static func + (a: Variable, b: Tensor) -> Variable { a + Variable(b) }
    public static func * (a: Variable, b: Tensor) -> Variable { a * Variable(b) }

    // MARK: Element-wise functions

    /// y = f(x) with dy/dx computed from x and y.
    func unary(_ value: Tensor, derivative: @escaping (_ x: Float, _ y: Float) -> Float) -> Variable {
        let output = value
        return Variable.result(value, [self]) { g, x in
            let input = x[0].value
            var d = [Float](repeating: 0, count: g.scalarCount)
            for index in d.indices {
                d[index] = g.scalars[index] * derivative(input.scalars[index], output.scalars[index])
            }
            x[0].accumulate(Tensor(shape: g.shape, scalars: d))
        }
    }

    public func exp() -> Variable { unary(value.map { Foundation.exp($0) }) { _, y in y } }
    public func log() -> Variable { unary(value.map { Foundation.log($0) }) { x, _ in 1 / x } }
    public func squareRoot() -> Variable { unary(value.map { $0.squareRoot() }) { _, y in 0.5 / y } }
    public func squared() -> Variable { unary(value.map { $0 * $0 }) { x, _ in 2 * x } }
    public func relu() -> Variable { unary(value.map { max($0, 0) }) { x, _ in x > 0 ? 1 : 0 } }
    public func leakyRelu(slope: Float = 0.01) -> Variable {
        unary(value.map { $0 > 0 ? $0 : slope * $0 }) { x, _ in x > 0 ? 1 : slope }
    }
    public func tanh() -> Variable { unary(value.map { Foundation.tanh($0) }) { _, y in 1 - y * y } }
    public func sigmoid() -> Variable { unary(value.map(Activation.sigmoid)) { _, y in y * (1 - y) } }
    /// log σ(x), stable for large |x|.
    public func logSigmoid() -> Variable {
        unary(value.map { -Activation.softplus(-$0) }) { x, _ in Activation.sigmoid(-x) }
    }
    /// log(1 + eˣ), stable for large |x|; its derivative is σ(x). (An RBM's free energy.)
    public func softplus() -> Variable { unary(value.map(Activation.softplus)) { x, _ in Activation.sigmoid(x) } }
    /// GELU, tanh approximation (Hendrycks and Gimpel 2016).
    public func gelu() -> Variable { unary(value.map(Activation.gelu)) { x, _ in Activation.geluDerivative(x) } }
    /// SELU (Klambauer et al. 2017).
    public func selu() -> Variable {
        unary(value.map(Activation.selu)) { x, _ in
            x > 0 ? Activation.seluScale : Activation.seluScale * Activation.seluAlpha * Foundation.exp(x)
        }
    }

    // MARK: Reductions and shape

    /// The sum of all elements, shape `[]`.
    public func sum() -> Variable {
        let shape = value.shape
        return Variable.result(Tensor(scalar: value.sum()), [self]) { g, x in
            x[0].accumulate(Tensor(repeating: g.scalar, shape: shape))
        }
    }

    public func mean() -> Variable { sum() / Float(max(1, value.scalarCount)) }

    /// Sums along `axis`, kept with size 1.
    public func sum(alongAxis axis: Int) -> Variable {
        let shape = value.shape
        return Variable.result(value.sum(alongAxis: axis), [self]) { g, x in x[0].accumulate(Tensor.zeros(shape) + g) }
    }

    public func mean(alongAxis axis: Int) -> Variable {
        sum(alongAxis: axis) / Float(value.shape[axis < 0 ? axis + value.rank : axis])
    }

    public func reshaped(_ shape: [Int]) -> Variable {
        let original = value.shape
        return Variable.result(value.reshaped(shape), [self]) { g, x in x[0].accumulate(g.reshaped(original)) }
    }

    public func permuted(_ axes: [Int]) -> Variable {
        var inverse = [Int](repeating: 0, count: axes.count)
        for (position, axis) in axes.enumerated() { inverse[axis] = position }
        return Variable.result(value.permuted(axes), [self]) { g, x in x[0].accumulate(g.permuted(inverse)) }
    }

    // MARK: Products

    /// `self · other` (`[m, k] · [k, n]`), or `self · otherᵀ` when `transposingOther`.
    public func matmul(_ other: Variable, transposingOther: Bool = false) -> Variable {
        Variable.result(value.matmul(other.value, transposingOther: transposingOther), [self, other]) { g, x in
            let a = x[0]
            let b = x[1]
            if a.requiresGradient { a.accumulate(g.matmul(b.value, transposingOther: !transposingOther)) }
            if b.requiresGradient {
                b.accumulate(
                    transposingOther
                        ? g.matmul(a.value, transposingSelf: true) : a.value.matmul(g, transposingSelf: true))
            }
        }
    }

    /// `self · weight + bias` (a dense layer), fused: one BLAS call forward; backward
    /// d self = g·Wᵀ, d W = selfᵀ·g, d bias = Σ_rows g.
    public func affine(weight: Variable, bias: Variable) -> Variable {
        Variable.result(value.affine(weight: weight.value, bias: bias.value), [self, weight, bias]) { g, x in
            if x[0].requiresGradient { x[0].accumulate(g.matmul(x[1].value, transposingOther: true)) }
            if x[1].requiresGradient { x[1].accumulate(x[0].value.matmul(g, transposingSelf: true)) }
            if x[2].requiresGradient { x[2].accumulate(g.sum(alongAxis: 0).reshaped(x[2].shape)) }
        }
    }

    /// Batched products of 3-D variables: `[b, m, k] · [b, k, n]`, or with `other` transposed.
    public func batchedMatmul(_ other: Variable, transposingOther: Bool = false) -> Variable {
        Variable.result(value.batchedMatmul(other.value, transposingOther: transposingOther), [self, other]) { g, x in
            let a = x[0]
            let b = x[1]
            if a.requiresGradient { a.accumulate(g.batchedMatmul(b.value, transposingOther: !transposingOther)) }
            if b.requiresGradient {
                b.accumulate(
                    transposingOther
                        ? g.batchedMatmul(a.value, transposingSelf: true)
                        : a.value.batchedMatmul(g, transposingSelf: true))
            }
        }
    }

    /// Scaled dot-product self-attention of `heads` heads over `batch` sequences of `length`
    /// positions (`SelfAttention`): query, key and value are `[batch·length, width]`, sequence-major,
    /// and so is the result; `causal` lets each position see only itself and earlier ones.
    public static func selfAttention(
        query: Variable, key: Variable, value: Variable, batch: Int, length: Int, heads: Int, causal: Bool
    ) -> Variable {
        let (output, weights) = SelfAttention.forward(
            query: query.value, key: key.value, value: value.value, batch: batch, length: length, heads: heads,
            causal: causal)
        return Variable.result(output, [query, key, value]) { g, x in
            let (dq, dk, dv) = SelfAttention.backward(
                g, query: x[0].value, key: x[1].value, value: x[2].value, weights: weights, batch: batch,
                length: length, heads: heads)
            if x[0].requiresGradient { x[0].accumulate(dq) }
            if x[1].requiresGradient { x[1].accumulate(dk) }
            if x[2].requiresGradient { x[2].accumulate(dv) }
        }
    }

    /// Causal self-attention over sequences packed without their left padding (`PackedSelfAttention`):
    /// query, key and value hold the real rows `[Σ lengths, width]`; `paddingKey` and `paddingValue`
    /// `[1, width]` are the projections of a padded position, which every sequence's `padding` positions
    /// share. Equals the padded window's attention at the real positions.
    public static func selfAttention(
        query: Variable, key: Variable, value: Variable, paddingKey: Variable, paddingValue: Variable,
        layout: PackedSelfAttention
    ) -> Variable {
        let (output, weights) = layout.forward(
            query: query.value, key: key.value, value: value.value, paddingKey: paddingKey.value,
            paddingValue: paddingValue.value)
        return Variable.result(output, [query, key, value, paddingKey, paddingValue]) { g, x in
            let gradients = layout.backward(
                g, query: x[0].value, key: x[1].value, value: x[2].value, paddingKey: x[3].value,
                paddingValue: x[4].value, weights: weights)
            let all = [gradients.query, gradients.key, gradients.value, gradients.paddingKey, gradients.paddingValue]
            for (input, gradient) in zip(x, all) where input.requiresGradient { input.accumulate(gradient) }
        }
    }

    /// Layer normalisation of each row (the last axis) in one op: x̂ = (x − mean) / √(variance + ε),
    /// then x̂ ⊙ gain + bias; the backward pass is the closed form dx = (dx̂ − mean(dx̂) − x̂ ·
    /// mean(dx̂ ⊙ x̂)) / √(variance + ε) with dx̂ = g ⊙ gain.
    public func layerNormalized(gain: Variable, bias: Variable, epsilon: Float) -> Variable {
        let width = shape.last ?? 0
        precondition(
            gain.shape == [width] && bias.shape == [width],
            "layer norm: \(shape), gain \(gain.shape), bias \(bias.shape)")
        let rows = width == 0 ? 0 : value.scalarCount / width
        var normalized = [Float](repeating: 0, count: value.scalarCount)
        var inverse = [Float](repeating: 0, count: rows)
        var output = [Float](repeating: 0, count: value.scalarCount)
        let x = value.scalars
        let gamma = gain.value.scalars
        let beta = bias.value.scalars
        for row in 0..<rows {
            let base = row * width
            var sum: Float = 0
            for j in 0..<width { sum += x[base + j] }
            let mean = sum / Float(width)
            var squares: Float = 0
            for j in 0..<width { squares += (x[base + j] - mean) * (x[base + j] - mean) }
            let r = 1 / (squares / Float(width) + epsilon).squareRoot()
            inverse[row] = r
            for j in 0..<width {
                let n = (x[base + j] - mean) * r
                normalized[base + j] = n
                output[base + j] = n * gamma[j] + beta[j]
            }
        }
        return Variable.result(Tensor(shape: shape, scalars: output), [self, gain, bias]) { g, inputs in
            let dy = g.scalars
            if inputs[0].requiresGradient {
                var dx = [Float](repeating: 0, count: dy.count)
                for row in 0..<rows {
                    let base = row * width
                    var meanD: Float = 0
                    var meanDN: Float = 0
                    for j in 0..<width {
                        let d = dy[base + j] * gamma[j]
                        meanD += d
                        meanDN += d * normalized[base + j]
                    }
                    meanD /= Float(width)
                    meanDN /= Float(width)
                    for j in 0..<width {
                        let d = dy[base + j] * gamma[j]
                        dx[base + j] = (d - meanD - normalized[base + j] * meanDN) * inverse[row]
                    }
                }
                inputs[0].accumulate(Tensor(shape: g.shape, scalars: dx))
            }
            if inputs[1].requiresGradient || inputs[2].requiresGradient {
                var dGain = [Float](repeating: 0, count: width)
                var dBias = [Float](repeating: 0, count: width)
                for row in 0..<rows {
                    let base = row * width
                    for j in 0..<width {
                        dGain[j] += dy[base + j] * normalized[base + j]
                        dBias[j] += dy[base + j]
                    }
                }
                if inputs[1].requiresGradient { inputs[1].accumulate(Tensor(shape: [width], scalars: dGain)) }
                if inputs[2].requiresGradient { inputs[2].accumulate(Tensor(shape: [width], scalars: dBias)) }
            }
        }
    }

    // MARK: Rows and columns

    /// The rows of a 2-D table at `indices` (an embedding lookup); the table's gradient comes back as
    /// rows (sparse for sparse tables).
    public func gathering(rows indices: [Int32]) -> Variable {
        Variable.result(value.gathering(rows: indices), [self]) { g, x in x[0].accumulate(rows: g, at: indices) }
    }

    /// Pools the table rows of each bag: bag b holds `indices[offsets[b]..<offsets[b + 1]]` (offsets
    /// has one more entry than there are bags); an empty bag gives zeros.
    public func bagged(indices: [Int32], offsets: [Int], pooling: Pooling) -> Variable {
        let bags = offsets.count - 1
        let scales = (0..<bags).map { bag -> Float in
            let size = Float(offsets[bag + 1] - offsets[bag])
            switch pooling {
            case .sum: return 1
            case .mean: return size > 0 ? 1 / size : 0
            case .sqrtN: return size > 0 ? 1 / size.squareRoot() : 0
            }
        }
        return pooled(indices: indices, offsets: offsets, squared: false) { bag, _ in scales[bag] }
    }

    /// Σ weights[p] · row(indices[p]) over each bag's positions p: a weighted embedding bag (one-hot,
    /// multi-hot and numeric features of a feature batch, each scaled by its value).
    public func bagged(indices: [Int32], offsets: [Int], weights: [Float]) -> Variable {
        precondition(weights.count == indices.count, "bagged: one weight per index")
        return pooled(indices: indices, offsets: offsets, squared: false) { _, position in weights[position] }
    }

    /// Σ (weights[p] · row(indices[p]))² element-wise over each bag: the Σᵢ (vᵢ xᵢ)² term of a
    /// factorisation machine's O(k·n) pairwise sum, without squaring the whole table.
    public func baggedSquares(indices: [Int32], offsets: [Int], weights: [Float]) -> Variable {
        precondition(weights.count == indices.count, "baggedSquares: one weight per index")
        return pooled(indices: indices, offsets: offsets, squared: true) { _, position in weights[position] }
    }

    /// The bag pooling behind `bagged` and `baggedSquares`: `weight(bag, position)` scales each row
    /// (squared rows are scaled by the weight's square).
    private func pooled(
        indices: [Int32], offsets: [Int], squared: Bool, weight: (_ bag: Int, _ position: Int) -> Float
    ) -> Variable {
        precondition(
            value.rank == 2 && offsets.first == 0 && offsets.last == indices.count,
            "bagged: offsets must run from 0 to indices.count")
        let width = value.shape[1]
        let bags = offsets.count - 1
        var weights = [Float](repeating: 0, count: indices.count)
        for bag in 0..<bags {
            for position in offsets[bag]..<offsets[bag + 1] { weights[position] = weight(bag, position) }
        }
        var pooled = [Float](repeating: 0, count: bags * width)
        value.scalars.withUnsafeBufferPointer { table in
            pooled.withUnsafeMutableBufferPointer { out in
                for bag in 0..<bags {
                    for position in offsets[bag]..<offsets[bag + 1] {
                        precondition(
                            indices[position] >= 0 && Int(indices[position]) < value.shape[0],
                            "row \(indices[position]) of \(value.shape[0])")
                        let row = table.baseAddress! + Int(indices[position]) * width
                        let target = out.baseAddress! + bag * width
                        if squared {
                            let scale = weights[position] * weights[position]
                            for j in 0..<width { target[j] += scale * row[j] * row[j] }
                        } else {
                            VectorKernels.axpy(weights[position], row, target, count: width)
                        }
                    }
                }
            }
        }
        return Variable.result(Tensor(shape: [bags, width], scalars: pooled), [self]) { g, x in
            // One gradient row per distinct table row, summed in lookup order (what coalescing per-lookup rows
            // gives, bit for bit): a batch of whole histories looks up the same rows many times. The table is
            // read from the input, not captured: a captured copy would share the table's storage until the
            // graph is freed, and the optimizer's in-place step would then copy the whole table every batch.
            let table = x[0].value
            let (unique, slots) = SparseRows.distinctRows(of: indices, rowCount: table.shape[0])
            var rows = [Float](repeating: 0, count: unique.count * width)
            rows.withUnsafeMutableBufferPointer { out in
                g.scalars.withUnsafeBufferPointer { gradient in
                    table.scalars.withUnsafeBufferPointer { values in
                        for bag in 0..<bags {
                            let source = gradient.baseAddress! + bag * width
                            for position in offsets[bag]..<offsets[bag + 1] {
                                let target = out.baseAddress! + slots[position] * width
                                let scale = weights[position]
                                if squared {
                                    let row = values.baseAddress! + Int(indices[position]) * width
                                    let factor = 2 * scale * scale
                                    for j in 0..<width { target[j] = target[j] + source[j] * factor * row[j] }
                                } else {
                                    for j in 0..<width { target[j] = target[j] + source[j] * scale }
                                }
                            }
                        }
                    }
                }
            }
            x[0].accumulate(rows: Tensor(shape: [unique.count, width], scalars: rows), at: unique)
        }
    }

    /// 2-D variables side by side.
    public static func concatenatingColumns(_ parts: [Variable]) -> Variable {
        let widths = parts.map { $0.shape[1] }
        return result(Tensor.concatenatingColumns(parts.map(\.value)), parts) { g, x in
            var offset = 0
            for (part, width) in zip(x, widths) {
                if part.requiresGradient { part.accumulate(g.columns(offset..<(offset + width))) }
                offset += width
            }
        }
    }

    /// Per row, the dot product of each of `self`'s groups with `other`'s row: `self` is `[n, G·d]`
    /// (G vectors of width d side by side), `other` `[n, d]`, the result `[n, G]` — several vectors
    /// per example against one (a user's tastes against an item) without broadcasting a `[n, G, d]`
    /// product.
    public func groupDots(with other: Variable) -> Variable {
        let (rows, width) = (other.shape[0], other.shape[1])
        precondition(
            value.rank == 2 && other.value.rank == 2 && value.shape[0] == rows && width > 0
                && value.shape[1] % width == 0,
            "groupDots: [n, G·d] against [n, d], got \(value.shape) and \(other.shape)")
        let groups = value.shape[1] / width
        var dots = [Float](repeating: 0, count: rows * groups)
        value.scalars.withUnsafeBufferPointer { x in
            other.value.scalars.withUnsafeBufferPointer { y in
                for row in 0..<rows {
                    let vector = y.baseAddress! + row * width
                    for group in 0..<groups {
                        dots[row * groups + group] = VectorKernels.dot(
                            x.baseAddress! + (row * groups + group) * width, vector, count: width)
                    }
                }
            }
        }
        return Variable.result(Tensor(shape: [rows, groups], scalars: dots), [self, other]) { g, inputs in
            let (grouped, single) = (inputs[0], inputs[1])
            let x = grouped.value.scalars
            let y = single.value.scalars
            if grouped.requiresGradient {
                var gradient = [Float](repeating: 0, count: rows * groups * width)
                for row in 0..<rows {
                    for group in 0..<groups {
                        let scale = g.scalars[row * groups + group]
                        let base = (row * groups + group) * width
                        for j in 0..<width { gradient[base + j] = scale * y[row * width + j] }
                    }
                }
                grouped.accumulate(Tensor(shape: [rows, groups * width], scalars: gradient))
            }
            if single.requiresGradient {
                var gradient = [Float](repeating: 0, count: rows * width)
                for row in 0..<rows {
                    for group in 0..<groups {
                        let scale = g.scalars[row * groups + group]
                        let base = (row * groups + group) * width
                        for j in 0..<width { gradient[row * width + j] += scale * x[base + j] }
                    }
                }
                single.accumulate(Tensor(shape: [rows, width], scalars: gradient))
            }
        }
    }

    /// Columns `range` of a 2-D variable.
    public func columns(_ range: Range<Int>) -> Variable {
        let shape = value.shape
        return Variable.result(value.columns(range), [self]) { g, x in
            var full = [Float](repeating: 0, count: shape[0] * shape[1])
            for row in 0..<shape[0] {
                for j in 0..<range.count {
                    full[row * shape[1] + range.lowerBound + j] = g.scalars[row * range.count + j]
                }
            }
            x[0].accumulate(Tensor(shape: shape, scalars: full))
        }
    }

    // MARK: Softmax family (along the last axis)

    public func softmax() -> Variable {
        let y = value.softmaxAlongLastAxis()
        return Variable.result(y, [self]) { g, x in
            x[0].accumulate(y * (g - (g * y).sum(alongAxis: -1)))
        }
    }

    public func logSoftmax() -> Variable {
        let y = value.logSoftmaxAlongLastAxis()
        return Variable.result(y, [self]) { g, x in
            x[0].accumulate(g - y.map { Foundation.exp($0) } * g.sum(alongAxis: -1))
        }
    }

    /// log Σ exp along the last axis, kept with size 1.
    public func logSumExp() -> Variable {
        let y = value.logSumExpAlongLastAxis()
        return Variable.result(y, [self]) { g, x in
            x[0].accumulate((x[0].value - y).map { Foundation.exp($0) } * g)
        }
    }
}

/// How a bag of embedding rows is pooled.
public enum Pooling: String, Codable, Sendable, CaseIterable {
    case sum
    case mean
    /// Sum divided by √n (the "MF with history" normalisation of SVD++).
    case sqrtN = "sqrtn"
}

/// Scalar activation functions and their derivatives.
public enum Activation: String, Codable, Sendable, CaseIterable {
    case identity, relu
    case leakyRelu = "leaky_relu"
    case tanh, sigmoid, gelu, selu

    public func callAsFunction(_ x: Variable) -> Variable {
        switch self {
        case .identity: return x
        case .relu: return x.relu()
        case .leakyRelu: return x.leakyRelu()
        case .tanh: return x.tanh()
        case .sigmoid: return x.sigmoid()
        case .gelu: return x.gelu()
        case .selu: return x.selu()
        }
    }

    static let seluAlpha: Float = 1.6732632423543772
    static let seluScale: Float = 1.0507009873554805

    /// σ(x), stable for large |x|.
    public static func sigmoid(_ x: Float) -> Float {
        x >= 0 ? 1 / (1 + Foundation.exp(-x)) : Foundation.exp(x) / (1 + Foundation.exp(x))
    }

    /// log(1 + eˣ), stable.
    /// log(1 + eˣ), stable for large |x|.
    public static func softplus(_ x: Float) -> Float { max(x, 0) + Foundation.log1p(Foundation.exp(-abs(x))) }

    static func selu(_ x: Float) -> Float { x > 0 ? seluScale * x : seluScale * seluAlpha * (Foundation.exp(x) - 1) }

    static let geluC: Float = 0.7978845608028654 // √(2/π)

    static func gelu(_ x: Float) -> Float {
        0.5 * x * (1 + Foundation.tanh(geluC * (x + 0.044715 * x * x * x)))
    }

    static func geluDerivative(_ x: Float) -> Float {
        let inner = geluC * (x + 0.044715 * x * x * x)
        let t = Foundation.tanh(inner)
        return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * geluC * (1 + 3 * 0.044715 * x * x)
    }
}

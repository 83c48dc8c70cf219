import Foundation
import RecKitTensor

/// y = x·W + b, x `[batch, inputs]`, W `[inputs, outputs]`.
public final class Linear: Module {
    public let weight: Variable
    public let bias: Variable?

    public init(
        _ inputs: Int, _ outputs: Int, bias: Bool = true, initializer: Initializer = .glorotUniform, seed: UInt64 = 0
    ) {
        var generator = Xoshiro256(seed: seed)
        weight = Variable(
            initializer.tensor([inputs, outputs], fanIn: inputs, fanOut: outputs, using: &generator),
            requiresGradient: true)
        self.bias = bias ? Variable(Tensor.zeros([outputs]), requiresGradient: true) : nil
    }

    public var ownParameters: [NamedParameter] {
        [NamedParameter("weight", weight)] + (bias.map { [NamedParameter("bias", $0)] } ?? [])
    }

    public func callAsFunction(_ x: Variable) -> Variable {
        bias.map { x.affine(weight: weight, bias: $0) } ?? x.matmul(weight)
    }
}

/// A table of `count` vectors looked up by index; its gradient is sparse (the rows a batch used).
public final class Embedding: Module {
    public let table: Variable

    public init(
        _ count: Int, _ dimension: Int, initializer: Initializer = .normal(0.01), sparse: Bool = true, seed: UInt64 = 0
    ) {
        var generator = Xoshiro256(seed: seed)
        table = Variable(
            initializer.tensor([count, dimension], fanIn: count, fanOut: dimension, using: &generator),
            requiresGradient: true)
        table.isSparse = sparse
    }

    public var ownParameters: [NamedParameter] { [NamedParameter("weight", table)] }

    /// `[indices.count, dimension]`.
    public func callAsFunction(_ indices: [Int32]) -> Variable { table.gathering(rows: indices) }
}

/// Pooled lookups of variable-length bags of indices (genres of an item, a user's history): one
/// `[bags, dimension]` row per bag, by sum, mean or sum/√n.
public final class EmbeddingBag: Module {
    public let table: Variable
    public let pooling: Pooling

    public init(
        _ count: Int, _ dimension: Int, pooling: Pooling = .mean, initializer: Initializer = .normal(0.01),
        sparse: Bool = true, seed: UInt64 = 0
    ) {
        var generator = Xoshiro256(seed: seed)
        table = Variable(
            initializer.tensor([count, dimension], fanIn: count, fanOut: dimension, using: &generator),
            requiresGradient: true)
        table.isSparse = sparse
        self.pooling = pooling
    }

    public var ownParameters: [NamedParameter] { [NamedParameter("weight", table)] }

    /// Bag b is `indices[offsets[b]..<offsets[b + 1]]`.
    public func callAsFunction(_ indices: [Int32], offsets: [Int]) -> Variable {
        table.bagged(indices: indices, offsets: offsets, pooling: pooling)
    }

    /// One bag per array.
    public func callAsFunction(_ bags: [[Int32]]) -> Variable {
        var offsets = [0]
        for bag in bags { offsets.append(offsets.last! + bag.count) }
        return table.bagged(indices: bags.flatMap { $0 }, offsets: offsets, pooling: pooling)
    }
}

/// Zeroes each element with probability p in training (scaling the rest by 1/(1 − p)); the identity
/// in evaluation. Masks come from the layer's own seeded generator.
public final class Dropout: Module {
    public let probability: Float
    public private(set) var isTraining = true
    var generator: Xoshiro256

    public init(_ probability: Float, seed: UInt64 = 0) {
        precondition(probability >= 0 && probability < 1, "dropout probability must be in [0, 1)")
        self.probability = probability
        generator = Xoshiro256(seed: seed)
    }

    public func setTraining(_ training: Bool) { isTraining = training }

    public func callAsFunction(_ x: Variable) -> Variable {
        guard isTraining && probability > 0 else { return x }
        let keep = 1 - probability
        let scale = 1 / keep
        let mask = (0..<x.value.scalarCount).map { _ in generator.nextUnitFloat() < keep ? scale : 0 }
        return x * Tensor(shape: x.shape, scalars: mask)
    }
}

/// The reparameterisation trick (Kingma and Welling 2014): in training, a draw μ + σ ⊙ ε from
/// N(μ, σ²) with ε ~ N(0, 1) from the layer's own seeded generator, differentiable in μ and log σ²;
/// in evaluation, the mean μ itself.
public final class GaussianSample: Module {
    public private(set) var isTraining = true
    var generator: Xoshiro256

    public init(seed: UInt64 = 0) { generator = Xoshiro256(seed: seed) }

    public func setTraining(_ training: Bool) { isTraining = training }

    public func callAsFunction(mean: Variable, logVariance: Variable) -> Variable {
        guard isTraining else { return mean }
        precondition(
            mean.shape == logVariance.shape, "GaussianSample: mean \(mean.shape), log-variance \(logVariance.shape)")
        // One operation (not four), one pass: z = μ + exp(½ log σ²)·ε;
        // ∂z/∂μ = 1, ∂z/∂log σ² = ½ σ ε.
        var scaled = generator.standardNormals(count: mean.value.scalarCount)
        var draws = mean.value.scalars
        logVariance.value.scalars.withUnsafeBufferPointer { logVar in
            scaled.withUnsafeMutableBufferPointer { scaled in
                draws.withUnsafeMutableBufferPointer { draws in
                    for index in 0..<scaled.count {
                        scaled[index] *= Foundation.exp(0.5 * logVar[index])
                        draws[index] += scaled[index]
                    }
                }
            }
        }
        return Variable.result(Tensor(shape: mean.shape, scalars: draws), [mean, logVariance]) { g, inputs in
            if inputs[0].requiresGradient { inputs[0].accumulate(g) }
            if inputs[1].requiresGradient {
                inputs[1].accumulate(Tensor(shape: g.shape, scalars: zip(g.scalars, scaled).map { 0.5 * $0 * $1 }))
            }
        }
    }
}

/// Layer normalisation over the last axis (Ba et al. 2016), with a learned gain and bias.
public final class LayerNorm: Module {
    public let gain: Variable
    public let bias: Variable
    public let epsilon: Float

    public init(_ dimension: Int, epsilon: Float = 1e-5) {
        gain = Variable(Tensor(repeating: 1, shape: [dimension]), requiresGradient: true)
        bias = Variable(Tensor.zeros([dimension]), requiresGradient: true)
        self.epsilon = epsilon
    }

    public var ownParameters: [NamedParameter] { [NamedParameter("weight", gain), NamedParameter("bias", bias)] }

    public func callAsFunction(_ x: Variable) -> Variable {
        x.layerNormalized(gain: gain, bias: bias, epsilon: epsilon)
    }
}

/// A stack of linear layers with an activation between them (and optionally dropout).
public final class MLP: Module {
    public let layers: [Linear]
    public let activation: Activation
    public let finalActivation: Activation
    public let dropout: Dropout?

    /// `sizes`: input width, then each layer's output width (e.g. [64, 128, 64, 1]). Weights start
    /// He-normal for ReLU and Glorot-uniform otherwise, unless `initializer` says (e.g. `.zeros`
    /// for a network about to load trained values).
    public init(
        _ sizes: [Int], activation: Activation = .relu, finalActivation: Activation = .identity, dropout: Float = 0,
        initializer: Initializer? = nil, seed: UInt64 = 0
    ) {
        precondition(sizes.count >= 2, "an MLP needs an input and at least one layer size")
        let start = initializer ?? (activation == .relu ? .heNormal : .glorotUniform)
        layers = (1..<sizes.count).map { index in
            Linear(sizes[index - 1], sizes[index], initializer: start, seed: seed &+ UInt64(index))
        }
        self.activation = activation
        self.finalActivation = finalActivation
        self.dropout = dropout > 0 ? Dropout(dropout, seed: seed &+ 1000) : nil
    }

    public var children: [(name: String, module: any Module)] {
        layers.enumerated().map { (name: "layers.\($0.offset)", module: $0.element as any Module) }
            + (dropout.map { [(name: "dropout", module: $0 as any Module)] } ?? [])
    }

    public func callAsFunction(_ x: Variable) -> Variable {
        var h = x
        for (index, layer) in layers.enumerated() {
            h = layer(h)
            if index < layers.count - 1 {
                h = activation(h)
                if let dropout { h = dropout(h) }
            } else {
                h = finalActivation(h)
            }
        }
        return h
    }
}

/// Latent Cross (Beutel et al. 2018): contexts multiplied into a hidden representation as
/// (1 + w_c) ⊙ x, w_c the sum of one learned vector per categorical context feature (hour, weekday,
/// device …). The vectors start at zero, so the layer starts as the identity.
public final class LatentCross: Module {
    /// One table per feature, `[cardinality, width]`.
    public let tables: [Embedding]

    public init(cardinalities: [Int], width: Int) {
        tables = cardinalities.map { Embedding($0, width, initializer: .zeros) }
    }

    public var children: [(name: String, module: any Module)] {
        tables.enumerated().map { ("\($0.offset)", $0.element as any Module) }
    }

    /// `x` `[rows, width]` crossed with the contexts, `features[f][row]` the value of feature f.
    public func callAsFunction(_ x: Variable, features: [[Int32]]) -> Variable {
        precondition(
            features.count == tables.count, "LatentCross: \(features.count) features for \(tables.count) tables")
        var w = tables[0](features[0])
        for (table, values) in zip(tables, features).dropFirst() { w = w + table(values) }
        return x * (w + 1)
    }

    /// The factors 1 + w_c on plain tensors, `[rows, width]`, from the tables' values (inference).
    public static func factors(tables: [Tensor], features: [[Int32]]) -> Tensor {
        let width = tables[0].shape[1]
        let rows = features[0].count
        var values = [Float](repeating: 1, count: rows * width)
        for (table, column) in zip(tables, features) {
            for (row, value) in column.enumerated() {
                for f in 0..<width { values[row * width + f] += table.scalars[Int(value) * width + f] }
            }
        }
        return Tensor(shape: [rows, width], scalars: values)
    }
}

/// A gated recurrent unit (Cho et al. 2014), as in GRU4Rec:
/// r = σ(x W_r + h U_r + b_r), z = σ(x W_z + h U_z + b_z), n = tanh(x W_n + r ⊙ (h U_n) + b_n),
/// h' = (1 − z) ⊙ n + z ⊙ h.
public final class GRUCell: Module {
    public let input: Linear // [inputs, 3·hidden]: r, z, n
    public let hidden: Linear // [hidden, 3·hidden], no bias
    public let hiddenSize: Int

    public init(inputs: Int, hidden: Int, seed: UInt64 = 0) {
        input = Linear(inputs, 3 * hidden, seed: seed)
        self.hidden = Linear(hidden, 3 * hidden, bias: false, seed: seed &+ 1)
        hiddenSize = hidden
    }

    public var children: [(name: String, module: any Module)] { [("input", input), ("hidden", hidden)] }

    public func callAsFunction(_ x: Variable, state h: Variable) -> Variable {
        callAsFunction(projected: input(x), state: h)
    }

    /// The step for one-hot inputs `items` (GRU4Rec's default): x·W_x + b is row `item` of W_x plus b,
    /// looked up instead of multiplied (mark `input.weight` sparse for sparse updates).
    public func callAsFunction(items: [Int32], state h: Variable) -> Variable {
        callAsFunction(projected: input.weight.gathering(rows: items) + input.bias!, state: h)
    }

    /// The step given the input's contribution x·W_x + b, `[batch, 3·hidden]`.
    public func callAsFunction(projected fromInput: Variable, state h: Variable) -> Variable {
        let size = hiddenSize
        let fromState = hidden(h)
        let r = (fromInput.columns(0..<size) + fromState.columns(0..<size)).sigmoid()
        let z = (fromInput.columns(size..<(2 * size)) + fromState.columns(size..<(2 * size))).sigmoid()
        let n = (fromInput.columns((2 * size)..<(3 * size)) + r * fromState.columns((2 * size)..<(3 * size))).tanh()
        return (1 - z) * n + z * h
    }

    /// The zero state for `batch` sequences.
    public func initialState(batch: Int) -> Variable { Variable(Tensor.zeros([batch, hiddenSize])) }
}

extension Float {
    public static func - (a: Float, b: Variable) -> Variable { -b + a }
}

/// A GRU over a sequence: the cell applied step by step, returning every step's state.
public final class GRU: Module {
    public let cell: GRUCell

    public init(inputs: Int, hidden: Int, seed: UInt64 = 0) {
        cell = GRUCell(inputs: inputs, hidden: hidden, seed: seed)
    }

    public var children: [(name: String, module: any Module)] { [("cell", cell)] }

    /// `steps[t]` is `[batch, inputs]`; the result's `t`-th entry is the state after step t.
    public func callAsFunction(_ steps: [Variable], initial: Variable? = nil) -> [Variable] {
        guard let first = steps.first else { return [] }
        var state = initial ?? cell.initialState(batch: first.shape[0])
        return steps.map { step in
            state = cell(step, state: state)
            return state
        }
    }
}

/// Multi-head scaled dot-product self-attention (Vaswani et al. 2017) over `[batch, length, width]`
/// sequences given as `[batch·length, width]` rows, with learned positional embeddings added to the
/// input and an optional causal mask (position t attends to positions ≤ t), as in SASRec.
public final class MultiHeadSelfAttention: Module {
    public let query: Linear, key: Linear, value: Linear, output: Linear
    /// Learned positions added to the input; nil when the caller adds its own (a stack of blocks
    /// adds them once, before the first).
    public let positions: Embedding?
    public let headCount: Int
    public let width: Int
    public let causal: Bool

    public init(
        width: Int, heads: Int, maxLength: Int, causal: Bool = true, positional: Bool = true, seed: UInt64 = 0
    ) {
        precondition(width % heads == 0, "width \(width) must divide into \(heads) heads")
        query = Linear(width, width, seed: seed)
        key = Linear(width, width, seed: seed &+ 1)
        value = Linear(width, width, seed: seed &+ 2)
        output = Linear(width, width, seed: seed &+ 3)
        positions =
            positional ? Embedding(maxLength, width, initializer: .normal(0.02), sparse: false, seed: seed &+ 4) : nil
        headCount = heads
        self.width = width
        self.causal = causal
    }

    public var children: [(name: String, module: any Module)] {
        [("query", query), ("key", key), ("value", value), ("output", output)]
            + (positions.map { [("positions", $0 as any Module)] } ?? [])
    }

    /// `x` is `[batch·length, width]`, sequence-major; returns the same shape.
    public func callAsFunction(_ x: Variable, batch: Int, length: Int) -> Variable {
        precondition(
            x.shape == [batch * length, width], "attention input \(x.shape) for \(batch) × \(length) × \(width)")
        let input = positions.map { x + $0((0..<(batch * length)).map { Int32($0 % length) }) } ?? x
        let attended = Variable.selfAttention(
            query: query(input), key: key(input), value: value(input), batch: batch, length: length,
            heads: headCount, causal: causal)
        return output(attended)
    }

    /// Causal attention over sequences packed without their left padding: `x` `[Σ lengths, width]` holds
    /// each sequence's real positions in order, and `padded` `[1, width]` is what each of a sequence's
    /// `layout.padding` padded positions holds (the same for all). Equals the padded call at the real
    /// positions (for a layer without its own positions).
    public func callAsFunction(_ x: Variable, padded: Variable, layout: PackedSelfAttention) -> Variable {
        precondition(
            positions == nil && causal && layout.heads == headCount,
            "packed attention: causal, \(headCount) heads, positions added by the caller")
        precondition(x.shape == [layout.rowCount, width], "attention input \(x.shape) for \(layout.rowCount) rows")
        let attended = Variable.selfAttention(
            query: query(x), key: key(x), value: value(x), paddingKey: key(padded), paddingValue: value(padded),
            layout: layout)
        return output(attended)
    }
}

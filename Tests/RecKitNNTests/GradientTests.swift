import RecKitTensor
import Testing

@testable import RecKitNN

/// Every differentiable operation and loss against central finite differences (Float32, step 1e-2,
/// relative error ≤ 1e-2).
@Suite struct GradientTests {
    typealias G = GradientCheck
    let tolerance: Float = 1e-2

    func check(
        _ inputs: [Variable], h: Float = 1e-2, _ loss: @escaping () -> Variable,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let error = G.maxRelativeError(inputs: inputs, h: h, loss)
        #expect(error <= tolerance, "relative error \(error)", sourceLocation: sourceLocation)
    }

    /// A fixed random weighting, so that every output element matters to the scalar checked.
    func weighted(_ v: Variable, seed: UInt64 = 99) -> Variable {
        (v * G.random(v.shape, seed: seed).detached()).sum()
    }

    @Test func arithmeticWithBroadcasting() {
        let a = G.random([3, 4], seed: 1)
        let b = G.random([4], seed: 2)
        let c = G.random([3, 1], seed: 3)
        let d = G.random([3, 4], seed: 4, scale: 0.5, offset: 2) // away from 0 for division
        check([a, b]) { self.weighted(a + b) }
        check([a, c]) { self.weighted(a - c) }
        check([a, b, c]) { self.weighted(a * b * c) }
        check([a, d]) { self.weighted(a / d) }
        check([a]) { self.weighted(a * 3 + 1 - a / 2) }
        let s = G.random([], seed: 5)
        check([a, s]) { self.weighted(a * s) }
        let x = G.random([2, 1, 3], seed: 6)
        let y = G.random([4, 1], seed: 7)
        check([x, y]) { self.weighted(x + y) } // → [2, 4, 3]
    }

    @Test func elementWiseFunctions() {
        let x = G.random([3, 5], seed: 8, scale: 2)
        let positive = G.random([3, 5], seed: 9, scale: 0.5, offset: 1.5)
        check([x]) { self.weighted(x.exp()) }
        check([positive]) { self.weighted(positive.log()) }
        check([positive]) { self.weighted(positive.squareRoot()) }
        check([x]) { self.weighted(x.squared()) }
        check([x]) { self.weighted(x.tanh()) }
        check([x]) { self.weighted(x.sigmoid()) }
        check([x]) { self.weighted(x.logSigmoid()) }
        check([x]) { self.weighted(x.softplus()) }
        check([x]) { self.weighted(x.gelu()) }
        check([x]) { self.weighted(x.selu()) }
        // Kinked functions: inputs kept away from the kink at 0.
        let away = Variable(x.value.map { $0 >= 0 ? $0 + 0.1 : $0 - 0.1 }, requiresGradient: true)
        check([away]) { self.weighted(away.relu()) }
        check([away]) { self.weighted(away.leakyRelu(slope: 0.1)) }
    }

    /// SpMM and SDDMM: gradients against finite differences, values against the dense products.
    @Test func sparseProducts() {
        // 4 × 5 with an empty row and a column used twice.
        let x = SparseMatrix(
            rowCount: 4, columnCount: 5, rowStarts: [0, 2, 2, 5, 6], columns: [1, 3, 0, 1, 4, 2],
            values: [0.5, -1, 2, 1.5, -0.5, 1])
        var dense = [Float](repeating: 0, count: 20)
        for (row, position) in zip(x.entryRows, 0..<x.entryCount) {
            dense[Int(row) * 5 + Int(x.columns[position])] = x.values[position]
        }
        let w = G.random([5, 3], seed: 21)
        check([w]) { self.weighted(Variable.sparseProduct(x, w)) }
        let product = Variable.sparseProduct(x, w).value
        #expect(product.maxAbsoluteDifference(Tensor(shape: [4, 5], scalars: dense).matmul(w.value)) < 1e-6)

        let a = G.random([4, 3], seed: 22)
        let b = G.random([5, 3], seed: 23)
        check([a, b]) { self.weighted(Variable.sampledProduct(a, b, at: x)) }
        let full = a.value.matmul(b.value, transposingOther: true)
        let sampled = Variable.sampledProduct(a, b, at: x).value.scalars
        for (position, row) in x.entryRows.enumerated() {
            #expect(abs(sampled[position] - full.scalars[Int(row) * 5 + Int(x.columns[position])]) < 1e-6)
        }
    }

    @Test func reductionsAndShapes() {
        let x = G.random([2, 3, 4], seed: 10)
        check([x]) { x.sum() * 0.5 }
        check([x]) { x.mean() }
        check([x]) { self.weighted(x.sum(alongAxis: 1)) }
        check([x]) { self.weighted(x.mean(alongAxis: -1)) }
        check([x]) { self.weighted(x.reshaped([6, 4])) }
        check([x]) { self.weighted(x.permuted([2, 0, 1])) }
    }

    @Test func products() {
        let a = G.random([3, 4], seed: 11)
        let b = G.random([4, 5], seed: 12)
        let bT = G.random([5, 4], seed: 13)
        check([a, b]) { self.weighted(a.matmul(b)) }
        check([a, bT]) { self.weighted(a.matmul(bT, transposingOther: true)) }
        let bias = G.random([5], seed: 31)
        check([a, b, bias]) { self.weighted(a.affine(weight: b, bias: bias)) }
        let p = G.random([2, 3, 4], seed: 14)
        let q = G.random([2, 4, 2], seed: 15)
        let r = G.random([2, 5, 4], seed: 16)
        check([p, q]) { self.weighted(p.batchedMatmul(q)) }
        check([p, r]) { self.weighted(p.batchedMatmul(r, transposingOther: true)) }
    }

    @Test(arguments: [false, true])
    func lookupsAndBags(sparse: Bool) {
        let table = G.random([6, 3], seed: 17)
        table.isSparse = sparse
        check([table]) { self.weighted(table.gathering(rows: [4, 1, 4, 0])) }
        for pooling in Pooling.allCases {
            check([table]) {
                self.weighted(table.bagged(indices: [0, 2, 2, 5, 1], offsets: [0, 3, 3, 5], pooling: pooling))
            }
        }
        let weights: [Float] = [0.5, -1.25, 2, 0.75, 1]
        check([table]) {
            self.weighted(table.bagged(indices: [0, 2, 2, 5, 1], offsets: [0, 3, 3, 5], weights: weights))
        }
        check([table]) {
            self.weighted(table.baggedSquares(indices: [0, 2, 2, 5, 1], offsets: [0, 3, 3, 5], weights: weights))
        }
    }

    /// Groups of a row against one vector: gradients, and values against the broadcast product.
    @Test func groupDots() {
        let grouped = G.random([3, 8], seed: 31)
        let single = G.random([3, 2], seed: 32)
        check([grouped, single]) { self.weighted(grouped.groupDots(with: single)) }
        let broadcast = (grouped.reshaped([3, 4, 2]) * single.reshaped([3, 1, 2])).sum(alongAxis: 2).reshaped([3, 4])
        #expect(grouped.groupDots(with: single).value.maxAbsoluteDifference(broadcast.value) < 1e-6)
    }

    @Test func columnsAndConcatenation() {
        let a = G.random([3, 2], seed: 18)
        let b = G.random([3, 4], seed: 19)
        check([a, b]) { self.weighted(Variable.concatenatingColumns([a, b, a])) }
        check([b]) { self.weighted(b.columns(1..<3)) }
    }

    @Test func softmaxFamily() {
        let x = G.random([3, 5], seed: 20, scale: 3)
        check([x]) { self.weighted(x.softmax()) }
        check([x]) { self.weighted(x.logSoftmax()) }
        check([x]) { self.weighted(x.logSumExp()) }
        let y = G.random([2, 2, 4], seed: 21, scale: 2)
        check([y]) { self.weighted(y.softmax()) }
    }

    @Test func losses() {
        let logits = G.random([4, 5], seed: 22, scale: 2)
        let targets = Tensor(shape: [4, 5], scalars: (0..<20).map { Float($0 % 3 == 0 ? 1 : 0) })
        check([logits]) { Loss.meanSquaredError(logits, targets) }
        check([logits]) { Loss.binaryCrossEntropy(logits: logits, targets: targets) }
        check([logits]) { Loss.softmaxCrossEntropy(logits: logits, labels: [0, 4, 2, 2]) }
        let logQ = Tensor(shape: [4, 5], scalars: (0..<20).map { -1 - Float($0 % 5) * 0.3 })
        check([logits]) { Loss.sampledSoftmaxCrossEntropy(logits: logits, logQ: logQ) }
        check([logits]) { Loss.multinomialLogLikelihood(logits: logits, counts: targets * 2) }
        // The fused loss has the value of its definition, −mean_b Σ_i c_bi · log softmax(z_b)_i.
        let composed = -(logits.logSoftmax() * (targets * 2)).sum(alongAxis: -1).mean()
        #expect(
            abs(Loss.multinomialLogLikelihood(logits: logits, counts: targets * 2).value.scalar - composed.value.scalar)
                < 1e-5)
        let mean = G.random([3, 4], seed: 23)
        let logVariance = G.random([3, 4], seed: 24, scale: 0.5)
        check([mean, logVariance]) { Loss.gaussianKL(mean: mean, logVariance: logVariance) }
        // The fused KL has the value of its definition, −½ mean_b Σ_i (1 + log σ² − μ² − σ²).
        let klTerms = logVariance + 1 - mean.squared() - logVariance.exp()
        #expect(
            abs(
                Loss.gaussianKL(mean: mean, logVariance: logVariance).value.scalar
                    - (klTerms.sum(alongAxis: -1).mean() * -0.5).value.scalar) < 1e-5)
        let positive = G.random([4], seed: 25)
        let negative = G.random([4, 3], seed: 26, scale: 1.5)
        check([positive, negative]) { Loss.bpr(positive: positive, negative: negative) }
        check([positive, negative]) { Loss.top1(positive: positive, negative: negative) }
        check([positive, negative]) { Loss.bprMax(positive: positive, negative: negative, regularization: 0.5) }
        check([positive, negative]) { Loss.top1Max(positive: positive, negative: negative) }
        // The score-matrix forms (GRU4Rec's in-batch negatives): the target column is the positive.
        let scoreMatrix = G.random([3, 4], seed: 31, scale: 1.5)
        let columns: [Int32] = [2, 0, 3]
        check([scoreMatrix]) { Loss.bprMax(logits: scoreMatrix, targets: columns, regularization: 0.5) }
        check([scoreMatrix]) { Loss.top1Max(logits: scoreMatrix, targets: columns) }
        // The hinge is kinked where a negative meets the margin: keep pairs away from it.
        let p = Variable(Tensor(shape: [3], scalars: [0.5, 2, -1]), requiresGradient: true)
        let n = Variable(
            Tensor(shape: [3, 3], scalars: [0.9, -1, 0.2, 0, 1.8, -0.5, 0.5, -3, 1]), requiresGradient: true)
        check([p, n]) { Loss.warpHinge(positive: p, negative: n, itemCount: 100) }
    }

    @Test func layersEndToEnd() {
        let x = G.random([3, 4], seed: 27)
        let linear = Linear(4, 2, seed: 1)
        check([x, linear.weight, linear.bias!]) { self.weighted(linear(x)) }
        let norm = LayerNorm(4)
        norm.gain.value = G.random([4], seed: 28, offset: 1).value
        check([x, norm.gain, norm.bias]) { self.weighted(norm(x)) }
        let cell = GRUCell(inputs: 4, hidden: 3, seed: 2)
        let h = G.random([3, 3], seed: 29)
        check([x, h] + cell.parameters.map(\.variable)) { self.weighted(cell(x, state: h)) }
        let oneHot = GRUCell(inputs: 5, hidden: 3, seed: 4)
        check([h] + oneHot.parameters.map(\.variable)) { self.weighted(oneHot(items: [4, 0, 4], state: h)) }
        let cross = LatentCross(cardinalities: [3, 2], width: 4)
        let features: [[Int32]] = [[2, 0, 2], [1, 1, 0]]
        #expect(GradientRecording.disabled { cross(x, features: features) }.value == x.value)
        for (index, table) in cross.tables.enumerated() {
            table.table.value = G.random(table.table.shape, seed: 40 + UInt64(index)).value
        }
        check([x] + cross.parameters.map(\.variable)) { self.weighted(cross(x, features: features)) }
        let factors = LatentCross.factors(tables: cross.tables.map(\.table.value), features: features)
        #expect(GradientRecording.disabled { cross(x, features: features) }.value == x.value * factors)
        let attention = MultiHeadSelfAttention(width: 4, heads: 2, maxLength: 3, seed: 3)
        let sequence = G.random([6, 4], seed: 30)
        check([sequence] + attention.parameters.map(\.variable)) {
            self.weighted(attention(sequence, batch: 2, length: 3))
        }
    }

    /// Sliding windows, max-over-steps pooling and the convolution layer: gradients against finite
    /// differences, and values against a hand-worked case.
    @Test func convolution() {
        let sequences = G.random([2, 4, 3], seed: 60)
        check([sequences]) { self.weighted(sequences.slidingWindows(width: 2)) }
        // Values apart enough that a step of h never changes which step is the largest.
        let responses = Variable(
            Tensor(shape: [6, 2], scalars: [0.1, 2, 1.5, -1, 0.7, 0.3, -2, 0.4, 3, 1, 1.2, -0.6]),
            requiresGradient: true)
        check([responses]) { self.weighted(responses.maxOverSteps(3, counts: [3, 2])) }
        // Example 0: steps 0-2; example 1: steps 0-1 only (its third, 1.2 / -0.6, is padding).
        #expect(responses.maxOverSteps(3, counts: [3, 2]).value.scalars == [1.5, 2, 3, 1])
        let conv = Conv1D(channels: 3, filters: 2, width: 2, seed: 5)
        conv.kernel.bias!.value = G.random([2], seed: 61).value
        check([sequences] + conv.parameters.map(\.variable)) { self.weighted(conv(sequences)) }
        // A window of steps 1-2 of example 1, by hand: Σ x[1, 1 + s, c] · W[s·3 + c, f] + b[f].
        let x = sequences.value.scalars
        let w = conv.kernel.weight.value.scalars
        let output = GradientRecording.disabled { conv(sequences) }.value
        #expect(output.shape == [6, 2])
        for filter in 0..<2 {
            var expected = conv.kernel.bias!.value.scalars[filter]
            for s in 0..<2 { for c in 0..<3 { expected += x[(4 + 1 + s) * 3 + c] * w[(s * 3 + c) * 2 + filter] } }
            #expect(abs(output.scalars[(3 + 1) * 2 + filter] - expected) < 1e-5)
        }
    }

    /// The fused self-attention against the same attention composed of reshapes, permutes, batched
    /// products, an additive mask and a softmax (values within 1e-5), and its gradients against
    /// finite differences, with and without the causal mask, one head and two.
    @Test func selfAttentionEqualsTheComposedOps() {
        let (batch, length, width) = (2, 3, 4)
        let q = G.random([batch * length, width], seed: 50)
        let k = G.random([batch * length, width], seed: 51)
        let v = G.random([batch * length, width], seed: 52)
        for heads in [1, 2] {
            for causal in [true, false] {
                let d = width / heads
                func split(_ x: Variable) -> Variable {
                    x.reshaped([batch, length, heads, d]).permuted([0, 2, 1, 3]).reshaped([batch * heads, length, d])
                }
                var scores = split(q).batchedMatmul(split(k), transposingOther: true) * (1 / Float(d).squareRoot())
                if causal {
                    let mask = (0..<(length * length)).map { $0 % length > $0 / length ? Float(-1e9) : 0 }
                    scores = scores + Tensor(shape: [length, length], scalars: mask)
                }
                let composed = scores.softmax().batchedMatmul(split(v)).reshaped([batch, heads, length, d])
                    .permuted([0, 2, 1, 3]).reshaped([batch * length, width])
                let fused = Variable.selfAttention(
                    query: q, key: k, value: v, batch: batch, length: length, heads: heads, causal: causal)
                for (a, b) in zip(fused.value.scalars, composed.value.scalars) { #expect(abs(a - b) < 1e-5) }
                check([q, k, v]) {
                    self.weighted(
                        Variable.selfAttention(
                            query: q, key: k, value: v, batch: batch, length: length, heads: heads, causal: causal))
                }
            }
        }
    }

    /// Packed attention (real rows only, the padding as one shared key and value) equals the padded
    /// window's causal attention at the real positions, values and gradients, for sequences with no,
    /// some and only padding and one head or two; its own gradients against finite differences.
    @Test func packedSelfAttentionEqualsThePaddedWindow() {
        let (length, width) = (4, 4)
        let lengths = [3, 4, 1, 0, 2]
        let rows = lengths.reduce(0, +)
        // Row 0 of each table is the padding's (the padded positions' query is any row: its output is unused).
        let q = G.random([rows + 1, width], seed: 70)
        let k = G.random([rows + 1, width], seed: 71)
        let v = G.random([rows + 1, width], seed: 72)
        var padded: [Int32] = []
        var realRows: [Int32] = []
        var next: Int32 = 1
        for n in lengths {
            for position in 0..<length {
                if position < length - n {
                    padded.append(0)
                } else {
                    realRows.append(Int32(padded.count))
                    padded.append(next)
                    next += 1
                }
            }
        }
        let real = (1...Int32(rows)).map { $0 }
        for heads in [1, 2] {
            let layout = PackedSelfAttention(lengths: lengths, padding: lengths.map { length - $0 }, heads: heads)
            func packed() -> Variable {
                Variable.selfAttention(
                    query: q.gathering(rows: real), key: k.gathering(rows: real), value: v.gathering(rows: real),
                    paddingKey: k.gathering(rows: [0]), paddingValue: v.gathering(rows: [0]), layout: layout)
            }
            func window() -> Variable {
                Variable.selfAttention(
                    query: q.gathering(rows: padded), key: k.gathering(rows: padded), value: v.gathering(rows: padded),
                    batch: lengths.count, length: length, heads: heads, causal: true
                ).gathering(rows: realRows)
            }
            var gradients: [[Float]] = []
            for output in [packed(), window()] {
                for x in [q, k, v] { x.zeroGradient() }
                weighted(output).backward()
                gradients.append([q, k, v].flatMap { $0.gradient!.scalars })
            }
            for (a, b) in zip(packed().value.scalars, window().value.scalars) { #expect(abs(a - b) < 1e-5) }
            for (a, b) in zip(gradients[0], gradients[1]) { #expect(abs(a - b) < 1e-5) }
            check([q, k, v]) { self.weighted(packed()) }
        }
    }

    /// The fused layer norm against its definition composed of means, a square root and a division.
    @Test func layerNormEqualsItsDefinition() {
        let x = G.random([5, 6], seed: 60, scale: 2, offset: 0.5)
        let gain = G.random([6], seed: 61, offset: 1)
        let bias = G.random([6], seed: 62)
        let centred = x - x.mean(alongAxis: -1)
        let composed = centred / (centred.squared().mean(alongAxis: -1) + 1e-5).squareRoot() * gain + bias
        let fused = x.layerNormalized(gain: gain, bias: bias, epsilon: 1e-5)
        for (a, b) in zip(fused.value.scalars, composed.value.scalars) { #expect(abs(a - b) < 1e-5) }
        check([x, gain, bias]) { self.weighted(x.layerNormalized(gain: gain, bias: bias, epsilon: 1e-5)) }
    }

    @Test func sharedInputsAccumulateAndGraphsAreFreed() {
        let x = Variable(Tensor(shape: [2], scalars: [3, -1]), requiresGradient: true)
        let y = (x * x + x).sum() // dy/dx = 2x + 1
        y.backward()
        #expect(x.gradient == Tensor(shape: [2], scalars: [7, -1]))
        // A second backward adds to the leaf's gradient.
        (x * 2).sum().backward()
        #expect(x.gradient == Tensor(shape: [2], scalars: [9, 1]))
        // Without recording, results are constants.
        let constant = GradientRecording.disabled { (x * x).sum() }
        #expect(!constant.requiresGradient)
        // No reference cycles: a graph dies with its result.
        weak var weakIntermediate: Variable?
        do {
            let intermediate = x * 3
            weakIntermediate = intermediate
            intermediate.sum().backward()
        }
        #expect(weakIntermediate == nil)
    }
}

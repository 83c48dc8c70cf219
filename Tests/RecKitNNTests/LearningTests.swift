import RecKitTensor
import Testing

@testable import RecKitNN

/// Small problems each building block must be able to learn, seeded so that every run is the same.
@Suite struct LearningTests {
    @Test func mlpLearnsXOR() {
        let x = Variable(Tensor(shape: [4, 2], scalars: [0, 0, 0, 1, 1, 0, 1, 1]))
        let y = Tensor(shape: [4, 1], scalars: [0, 1, 1, 0])
        let mlp = MLP([2, 8, 1], activation: .tanh, seed: 3)
        let optimizer = Adam(mlp.parameters.map(\.variable), learningRate: 0.05)
        for _ in 0..<400 {
            optimizer.zeroGradients()
            Loss.binaryCrossEntropy(logits: mlp(x), targets: y).backward()
            optimizer.step()
        }
        let predictions = GradientRecording.disabled { mlp(x) }.value.scalars.map { $0 > 0 ? Float(1) : 0 }
        #expect(predictions == y.scalars)
    }

    @Test func logisticRegressionSeparatesSeparableData() {
        var generator = SplitMix64(seed: 5)
        let n = 1000
        let d = 5
        let truth: [Float] = [1.5, -2, 0.5, 1, -1]
        var features: [Float] = []
        var labels: [Float] = []
        while labels.count < n {
            let point = (0..<d).map { _ in generator.nextUnitFloat() * 2 - 1 }
            let margin = zip(point, truth).reduce(Float(0.2)) { $0 + $1.0 * $1.1 }
            if abs(margin) < 0.05 { continue } // separable with a margin
            features += point
            labels.append(margin > 0 ? 1 : 0)
        }
        let x = Variable(Tensor(shape: [n, d], scalars: features))
        let y = Tensor(shape: [n, 1], scalars: labels)
        let model = Linear(d, 1, seed: 1)
        let optimizer = Adam(model.parameters.map(\.variable), learningRate: 0.1)
        for _ in 0..<300 {
            optimizer.zeroGradients()
            Loss.binaryCrossEntropy(logits: model(x), targets: y).backward()
            optimizer.step()
        }
        let logits = GradientRecording.disabled { model(x) }.value.scalars
        let accuracy = Float(zip(logits, labels).filter { ($0 > 0) == ($1 == 1) }.count) / Float(n)
        #expect(accuracy >= 0.99, "accuracy \(accuracy)")
    }

    /// Sequences of random bits; the GRU must report how many were 1 (0...length).
    @Test func gruLearnsToCount() {
        let length = 6
        let batch = 64
        var generator = SplitMix64(seed: 7)
        let embedding = Embedding(2, 8, initializer: .normal(0.5), sparse: false, seed: 1)
        let gru = GRU(inputs: 8, hidden: 24, seed: 2)
        let head = Linear(24, length + 1, seed: 3)
        let parameters = (embedding.parameters + gru.parameters + head.parameters).map(\.variable)
        let optimizer = Adam(parameters, learningRate: 0.02)
        func sample() -> (steps: [[Int32]], counts: [Int32]) {
            let bits = (0..<batch).map { _ in (0..<length).map { _ in Int32(generator.nextIndex(below: 2)) } }
            return ((0..<length).map { t in bits.map { $0[t] } }, bits.map { Int32($0.reduce(0, +)) })
        }
        func logits(_ steps: [[Int32]]) -> Variable { head(gru(steps.map { embedding($0) }).last!) }
        for _ in 0..<300 {
            let (steps, counts) = sample()
            optimizer.zeroGradients()
            Loss.softmaxCrossEntropy(logits: logits(steps), labels: counts).backward()
            clipGradientNorm(parameters, maxNorm: 5)
            optimizer.step()
        }
        let (steps, counts) = sample()
        let output = GradientRecording.disabled { logits(steps) }.value
        let predicted = output.topKPerRow(1, threadCount: 1).map { $0[0].index }
        let accuracy = Float(zip(predicted, counts).filter { $0 == $1 }.count) / Float(batch)
        #expect(accuracy >= 0.9, "accuracy \(accuracy)")
    }

    /// Random token sequences; at every position after the first, predict the previous token.
    @Test func causalAttentionLearnsToCopyThePreviousToken() {
        let length = 6
        let batch = 32
        let vocabulary = 8
        let width = 16
        var generator = SplitMix64(seed: 11)
        let embedding = Embedding(vocabulary, width, initializer: .normal(0.5), sparse: false, seed: 1)
        let attention = MultiHeadSelfAttention(width: width, heads: 2, maxLength: length, causal: true, seed: 2)
        let head = Linear(width, vocabulary, seed: 3)
        let parameters = (embedding.parameters + attention.parameters + head.parameters).map(\.variable)
        let optimizer = Adam(parameters, learningRate: 0.01)
        func sample() -> [Int32] { (0..<(batch * length)).map { _ in Int32(generator.nextIndex(below: vocabulary)) } }
        /// Rows of positions ≥ 1 and their targets (the previous token).
        func targets(_ tokens: [Int32]) -> (rows: [Int32], labels: [Int32]) {
            var rows: [Int32] = []
            var labels: [Int32] = []
            for b in 0..<batch {
                for t in 1..<length {
                    rows.append(Int32(b * length + t))
                    labels.append(tokens[b * length + t - 1])
                }
            }
            return (rows, labels)
        }
        func logits(_ tokens: [Int32]) -> Variable { head(attention(embedding(tokens), batch: batch, length: length)) }
        for _ in 0..<400 {
            let tokens = sample()
            let (rows, labels) = targets(tokens)
            optimizer.zeroGradients()
            Loss.softmaxCrossEntropy(logits: logits(tokens).gathering(rows: rows), labels: labels).backward()
            optimizer.step()
        }
        let tokens = sample()
        let (rows, labels) = targets(tokens)
        let output = GradientRecording.disabled { logits(tokens) }.value.gathering(rows: rows)
        let predicted = output.topKPerRow(1, threadCount: 1).map { $0[0].index }
        let accuracy = Float(zip(predicted, labels).filter { $0 == $1 }.count) / Float(labels.count)
        #expect(accuracy >= 0.9, "accuracy \(accuracy)")
    }
}

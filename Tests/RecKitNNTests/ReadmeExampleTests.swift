import Foundation
import RecKitNN
import RecKitTensor
import Testing
import _RecKitTestSupport

/// The README's two library examples, verbatim apart from the expectations.
@Suite struct ReadmeExampleTests {
    @Test func mlpRegressionAndLogisticRegression() throws {
        let folder = TemporaryDirectory()
        var generator = SplitMix64(seed: 1)
        let xs = (0..<256).map { _ in generator.nextUnitFloat() * 2 - 1 }
        let x = Variable(Tensor(shape: [256, 1], scalars: xs))
        let y = Tensor(shape: [256, 1], scalars: xs.map { sin(3 * $0) })
        let model = MLP([1, 32, 32, 1], activation: .tanh, seed: 1)
        let optimizer = Adam(model.parameters.map(\.variable), learningRate: 0.01)
        var last: Float = .infinity
        for step in 0..<500 {
            optimizer.zeroGradients()
            let loss = Loss.meanSquaredError(model(x), y)
            loss.backward()
            optimizer.step()
            if step % 100 == 0 { print("step \(step): mse \(loss.value.scalar)") }
            last = loss.value.scalar
        }
        try Checkpoint.save(model, to: folder.path + "/mlp.safetensors")
        #expect(last < 0.01, "mse \(last)")

        let points = (0..<500).map { _ in (generator.nextUnitFloat() * 2 - 1, generator.nextUnitFloat() * 2 - 1) }
        let features = Variable(Tensor(shape: [500, 2], scalars: points.flatMap { [$0.0, $0.1] }))
        let labels = Tensor(shape: [500, 1], scalars: points.map { $0.0 + 2 * $0.1 > 0.1 ? 1 : 0 })
        let classifier = Linear(2, 1)
        let sgd = SGD(classifier.parameters.map(\.variable), learningRate: 1)
        for _ in 0..<300 {
            sgd.zeroGradients()
            Loss.binaryCrossEntropy(logits: classifier(features), targets: labels).backward()
            sgd.step()
        }
        let logits = GradientRecording.disabled { classifier(features) }.value.scalars
        let accuracy = Float(zip(logits, labels.scalars).filter { ($0 > 0) == ($1 == 1) }.count) / 500
        #expect(accuracy > 0.97, "accuracy \(accuracy)")
    }
}

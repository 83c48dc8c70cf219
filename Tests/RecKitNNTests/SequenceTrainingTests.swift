import RecKitTensor
import Testing

@testable import RecKitNN

@Suite struct SequenceTrainingTests {
    /// Two lanes over four sequences (one too short to give a step), worked by hand: a lane that
    /// finishes takes the next sequence at the next step; idle lanes drop out at the end.
    @Test func sessionParallelScheduleByHand() {
        let sequences: [[Int32]] = [[1, 2, 3], [4, 5], [6], [7, 8, 9, 10]]
        let steps = SessionParallelStep.schedule(sequences, order: [0, 1, 2, 3], batchSize: 2)
        #expect(
            steps == [
                SessionParallelStep(lanes: [0, 1], inputs: [1, 4], targets: [2, 5], starts: [true, true]),
                SessionParallelStep(lanes: [0, 1], inputs: [2, 7], targets: [3, 8], starts: [false, true]),
                SessionParallelStep(lanes: [1], inputs: [8], targets: [9], starts: [false]),
                SessionParallelStep(lanes: [1], inputs: [9], targets: [10], starts: [false]),
            ])
        // Every (click, next click) pair of the usable sequences appears exactly once.
        #expect(steps.reduce(0) { $0 + $1.inputs.count } == 2 + 1 + 3)
    }

    /// A one-hot step looks up input weight rows: the same state as multiplying a one-hot matrix.
    @Test func oneHotStepEqualsTheOneHotProduct() {
        let cell = GRUCell(inputs: 5, hidden: 3, seed: 9)
        var generator = SplitMix64(seed: 1)
        let state = Variable(Tensor(shape: [2, 3], scalars: (0..<6).map { _ in generator.nextUnitFloat() - 0.5 }))
        var oneHot = [Float](repeating: 0, count: 10)
        oneHot[4] = 1
        oneHot[5 + 1] = 1
        let multiplied = cell(Variable(Tensor(shape: [2, 5], scalars: oneHot)), state: state).value.scalars
        let lookedUp = cell(items: [4, 1], state: state).value.scalars
        for (a, b) in zip(multiplied, lookedUp) { #expect(abs(a - b) < 1e-6) }
    }

    /// The score-matrix BPR-max equals the positive/negative form with the target column removed.
    @Test func scoreMatrixRankingLossesEqualThePairForm() {
        let scores: [Float] = [0.3, -1.2, 2.0, 0.5, 1.1, 0.0, -0.4, 0.9]
        let logits = Variable(Tensor(shape: [2, 4], scalars: scores))
        let targets: [Int32] = [2, 0]
        let positive = Variable(Tensor(shape: [2], scalars: [2.0, 1.1]))
        let negative = Variable(Tensor(shape: [2, 3], scalars: [0.3, -1.2, 0.5, 0.0, -0.4, 0.9]))
        let a = Loss.bprMax(logits: logits, targets: targets, regularization: 0.5).value.scalar
        let b = Loss.bprMax(positive: positive, negative: negative, regularization: 0.5).value.scalar
        #expect(abs(a - b) < 1e-6)
        let c = Loss.top1Max(logits: logits, targets: targets).value.scalar
        let d = Loss.top1Max(positive: positive, negative: negative).value.scalar
        #expect(abs(c - d) < 1e-6)
    }
}

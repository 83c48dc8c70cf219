/// GRU4Rec's session-parallel mini-batches (Hidasi et al. 2016): `batchSize` lanes each walk one
/// sequence click by click; at every step each active lane feeds its current click and predicts the
/// next one. A lane whose sequence ends takes the next sequence of `order` (its hidden state is then
/// reset); when none are left it falls idle, so the last steps are narrower. Sequences shorter than
/// two clicks give no step.
public struct SessionParallelStep: Sendable, Equatable {
    /// The lane (0..<batchSize) of each row: where the row's hidden state is kept between steps.
    public var lanes: [Int]
    public var inputs: [Int32]
    public var targets: [Int32]
    /// Rows whose lane starts a new sequence at this step (hidden state reset to zero).
    public var starts: [Bool]

    public init(lanes: [Int], inputs: [Int32], targets: [Int32], starts: [Bool]) {
        self.lanes = lanes
        self.inputs = inputs
        self.targets = targets
        self.starts = starts
    }

    /// The steps over `sequences` taken in `order` (indices into `sequences`).
    public static func schedule(_ sequences: [[Int32]], order: [Int], batchSize: Int) -> [SessionParallelStep] {
        precondition(batchSize > 0, "session-parallel batches need at least one lane")
        var queue = order.filter { sequences[$0].count >= 2 }.makeIterator()
        var current = [Int?](repeating: nil, count: batchSize)
        var position = [Int](repeating: 0, count: batchSize)
        for lane in 0..<batchSize { current[lane] = queue.next() }
        var steps: [SessionParallelStep] = []
        while true {
            var step = SessionParallelStep(lanes: [], inputs: [], targets: [], starts: [])
            for lane in 0..<batchSize {
                guard let sequence = current[lane] else { continue }
                let items = sequences[sequence]
                step.lanes.append(lane)
                step.inputs.append(items[position[lane]])
                step.targets.append(items[position[lane] + 1])
                step.starts.append(position[lane] == 0)
                position[lane] += 1
                if position[lane] + 1 >= items.count {
                    current[lane] = queue.next()
                    position[lane] = 0
                }
            }
            if step.lanes.isEmpty { break }
            steps.append(step)
        }
        return steps
    }
}

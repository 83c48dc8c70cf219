import RecKitTensor

// One-dimensional convolution over sequences (Kim 2014's text CNN; van den Oord et al. 2013 on
// audio): windows of `width` consecutive steps, each multiplied by one weight matrix, then the
// largest response of each filter over a sequence's valid steps.

extension Variable {
    /// Every window of `width` consecutive steps of a `[batch, length, channels]` variable, one row
    /// each: `[batch · (length − width + 1), width · channels]`, example by example, window by window.
    /// In row-major order a window is one contiguous span, so this is a copy and its gradient an add.
    public func slidingWindows(width: Int) -> Variable {
        precondition(value.rank == 3, "slidingWindows takes [batch, length, channels], got \(shape)")
        let (batch, length, channels) = (shape[0], shape[1], shape[2])
        precondition(width >= 1 && width <= length, "a window of \(width) steps in sequences of \(length)")
        let steps = length - width + 1
        let span = width * channels
        var windows = [Float](repeating: 0, count: batch * steps * span)
        value.scalars.withUnsafeBufferPointer { x in
            windows.withUnsafeMutableBufferPointer { out in
                for example in 0..<batch {
                    for step in 0..<steps {
                        let source = x.baseAddress! + (example * length + step) * channels
                        (out.baseAddress! + (example * steps + step) * span).update(from: source, count: span)
                    }
                }
            }
        }
        let inputShape = shape
        return Variable.result(Tensor(shape: [batch * steps, span], scalars: windows), [self]) { g, inputs in
            var gradient = [Float](repeating: 0, count: batch * length * channels)
            g.scalars.withUnsafeBufferPointer { windowGradient in
                for example in 0..<batch {
                    for step in 0..<steps {
                        let target = (example * length + step) * channels
                        let source = (example * steps + step) * span
                        for j in 0..<span { gradient[target + j] += windowGradient[source + j] }
                    }
                }
            }
            inputs[0].accumulate(Tensor(shape: inputShape, scalars: gradient))
        }
    }

    /// The largest value of each column over each example's first `counts[b]` steps: `self` is
    /// `[batch · steps, features]` (each example's steps in consecutive rows), the result
    /// `[batch, features]`. Max-over-time pooling that ignores padded steps; a tie goes to the
    /// earliest step, which alone receives the gradient.
    public func maxOverSteps(_ steps: Int, counts: [Int]) -> Variable {
        precondition(value.rank == 2 && steps >= 1 && shape[0] == counts.count * steps, "maxOverSteps: \(shape)")
        precondition(counts.allSatisfy { $0 >= 1 && $0 <= steps }, "every example needs 1...\(steps) valid steps")
        let (batch, features) = (counts.count, shape[1])
        var maxima = [Float](repeating: 0, count: batch * features)
        var winners = [Int](repeating: 0, count: batch * features)
        value.scalars.withUnsafeBufferPointer { x in
            for example in 0..<batch {
                for feature in 0..<features {
                    var best = example * steps
                    for step in 1..<counts[example]
                    where x[(example * steps + step) * features + feature]
                        > x[best * features + feature]
                    {
                        best = example * steps + step
                    }
                    maxima[example * features + feature] = x[best * features + feature]
                    winners[example * features + feature] = best
                }
            }
        }
        let rows = shape[0]
        return Variable.result(Tensor(shape: [batch, features], scalars: maxima), [self]) { g, inputs in
            var gradient = [Float](repeating: 0, count: rows * features)
            for (slot, row) in winners.enumerated() { gradient[row * features + slot % features] += g.scalars[slot] }
            inputs[0].accumulate(Tensor(shape: [rows, features], scalars: gradient))
        }
    }
}

/// A 1-D convolution of `filters` filters spanning `width` steps of `channels`-wide sequences,
/// without padding: `[batch, length, channels]` in, `[batch · (length − width + 1), filters]` out
/// (example by example, step by step; reshape to `[batch, steps, filters]` or pool with
/// `maxOverSteps`). The weight is one `[width · channels, filters]` matrix over each window.
public final class Conv1D: Module {
    public let width: Int
    public let channels: Int
    public let filters: Int
    let kernel: Linear

    public init(channels: Int, filters: Int, width: Int, initializer: Initializer = .glorotUniform, seed: UInt64 = 0) {
        precondition(width >= 1 && channels >= 1 && filters >= 1, "Conv1D needs positive sizes")
        self.width = width
        self.channels = channels
        self.filters = filters
        kernel = Linear(width * channels, filters, initializer: initializer, seed: seed)
    }

    public var children: [(name: String, module: any Module)] { [("kernel", kernel)] }

    public func callAsFunction(_ x: Variable) -> Variable {
        precondition(x.shape.count == 3 && x.shape[2] == channels, "Conv1D over \(channels) channels got \(x.shape)")
        return kernel(x.slidingWindows(width: width))
    }
}

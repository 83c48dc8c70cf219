import RecKitNN
import RecKitTensor

/// Finite-difference checks of reverse-mode gradients.
enum GradientCheck {
    /// The largest relative error between the autodiff gradient of `loss` with respect to each
    /// input and central differences (step `h`), relative to max(1e-2, |numeric|, |analytic|).
    static func maxRelativeError(inputs: [Variable], h: Float = 1e-2, _ loss: () -> Variable) -> Float {
        for input in inputs { input.zeroGradient() }
        let output = loss()
        output.backward()
        var worst: Float = 0
        for input in inputs {
            var analytic = input.gradient ?? Tensor.zeros(input.shape)
            if let sparse = input.sparseGradient { analytic = analytic + sparse.dense(rowCount: input.shape[0]) }
            for index in 0..<input.value.scalarCount {
                let original = input.value.scalars[index]
                input.value.scalars[index] = original + h
                let up = Double(GradientRecording.disabled { loss() }.value.scalar)
                input.value.scalars[index] = original - h
                let down = Double(GradientRecording.disabled { loss() }.value.scalar)
                input.value.scalars[index] = original
                let numeric = Float((up - down) / (2 * Double(h)))
                let error =
                    abs(numeric - analytic.scalars[index]) / max(1e-2, abs(numeric), abs(analytic.scalars[index]))
                worst = max(worst, error)
            }
        }
        return worst
    }

    static func random(_ shape: [Int], seed: UInt64, scale: Float = 1, offset: Float = 0) -> Variable {
        var generator = SplitMix64(seed: seed)
        let count = shape.reduce(1, *)
        return Variable(
            Tensor(
                shape: shape, scalars: (0..<count).map { _ in (generator.nextUnitFloat() * 2 - 1) * scale + offset }),
            requiresGradient: true)
    }
}

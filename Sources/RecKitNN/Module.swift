import Foundation
import RecKitTensor

/// A parameter with its name in a checkpoint (`layers.0.weight`).
public struct NamedParameter {
    public var name: String
    public var variable: Variable
    public init(_ name: String, _ variable: Variable) {
        self.name = name
        self.variable = variable
    }
}

/// A part of a network: named parameters (its own and its children's, prefixed) and a training
/// flag (dropout is active only in training mode).
public protocol Module: AnyObject {
    var parameters: [NamedParameter] { get }
    /// Sub-modules with their names, for the default `parameters` and `setTraining`.
    var children: [(name: String, module: any Module)] { get }
    /// Own parameters (without children's).
    var ownParameters: [NamedParameter] { get }
    func setTraining(_ training: Bool)
}

extension Module {
    public var children: [(name: String, module: any Module)] { [] }
    public var ownParameters: [NamedParameter] { [] }

    public var parameters: [NamedParameter] {
        ownParameters
            + children.flatMap { child in
                child.module.parameters.map { NamedParameter(child.name + "." + $0.name, $0.variable) }
            }
    }

    public func setTraining(_ training: Bool) {
        for child in children { child.module.setTraining(training) }
    }

    /// Clears every parameter's gradient.
    public func zeroGradients() { for parameter in parameters { parameter.variable.zeroGradient() } }

    /// Sets every parameter named in `values` whose shape matches to that value; returns how many.
    @discardableResult
    public func load(_ values: [String: Tensor]) -> Int {
        var loaded = 0
        for parameter in parameters {
            if let value = values[parameter.name], value.shape == parameter.variable.shape {
                parameter.variable.value = value
                loaded += 1
            }
        }
        return loaded
    }

    /// Every parameter's current value by name (`encoder.weight`, …): what a trained model keeps.
    public var namedValues: [String: Tensor] {
        Dictionary(uniqueKeysWithValues: parameters.map { ($0.name, $0.variable.value) })
    }

    /// Every parameter's shape by name, to check restored weights.
    public var namedShapes: [String: [Int]] {
        Dictionary(uniqueKeysWithValues: parameters.map { ($0.name, $0.variable.shape) })
    }

    /// The number of trainable scalars.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.variable.value.scalarCount } }
}

/// Seeded initialisers for weights.
public enum Initializer {
    /// Uniform in ±√(6 / (fanIn + fanOut)) (Glorot and Bengio 2010).
    case glorotUniform
    /// Uniform in ±√(1 / fanIn) (LeCun et al. 1998; PyTorch's default for linear layers).
    case lecunUniform
    /// Normal with standard deviation √(2 / fanIn) (He et al. 2015), for ReLU layers.
    case heNormal
    /// Normal with the given standard deviation.
    case normal(Float)
    case zeros

    public func tensor(_ shape: [Int], fanIn: Int, fanOut: Int, using generator: inout Xoshiro256) -> Tensor {
        let count = shape.reduce(1, *)
        switch self {
        case .glorotUniform:
            let limit = (6 / Float(max(1, fanIn + fanOut))).squareRoot()
            return Tensor(shape: shape, scalars: (0..<count).map { _ in (generator.nextUnitFloat() * 2 - 1) * limit })
        case .lecunUniform:
            let limit = (1 / Float(max(1, fanIn))).squareRoot()
            return Tensor(shape: shape, scalars: (0..<count).map { _ in (generator.nextUnitFloat() * 2 - 1) * limit })
        case .heNormal:
            let deviation = (2 / Float(max(1, fanIn))).squareRoot()
            return Tensor(shape: shape, scalars: (0..<count).map { _ in generator.nextStandardNormal() * deviation })
        case .normal(let deviation):
            return Tensor(shape: shape, scalars: (0..<count).map { _ in generator.nextStandardNormal() * deviation })
        case .zeros:
            return Tensor.zeros(shape)
        }
    }
}

import Foundation
import RecKitData
import RecKitTensor

/// A saved model that cannot be restored: a missing or malformed tensor, or sizes that disagree.
public struct RestoreError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Named weights of a model, with typed lookups that check shapes.
public struct ModelWeights: Sendable {
    public var entries: [String: SafeTensors.Entry]
    /// JSON files saved beside the weights, by file name (`features.json`: a feature model's fitted
    /// vocabularies and statistics), for state that is not a tensor.
    public var documents: [String: Data]

    public init(_ entries: [String: SafeTensors.Entry] = [:], documents: [String: Data] = [:]) {
        self.entries = entries
        self.documents = documents
    }

    /// Stores `value` as the JSON document `name`.
    public mutating func store<Value: Encodable>(document value: Value, as name: String) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        documents[name] = try? encoder.encode(value)
    }

    /// The JSON document `name`, decoded.
    public func document<Value: Decodable>(_ type: Value.Type, _ name: String) throws(RestoreError) -> Value {
        guard let data = documents[name] else { throw RestoreError("missing document '\(name)'") }
        do { return try JSONDecoder().decode(type, from: data) } catch {
            throw RestoreError("document '\(name)' is malformed: \(error)")
        }
    }

    /// Stores everything `model` saves under `prefix` (a model saved inside another: an ensemble's
    /// members, a content model's collaborative base).
    public mutating func store(_ model: any TrainableRecommender, prefix: String) {
        var own = ModelWeights()
        model.save(into: &own)
        store(own, prefix: prefix)
    }

    /// Stores every entry and document of `other` under `prefix` (read back by `unprefixed`).
    public mutating func store(_ other: ModelWeights, prefix: String) {
        for (key, entry) in other.entries { entries[prefix + key] = entry }
        for (name, data) in other.documents { documents[prefix + name] = data }
    }

    /// The weights stored under `prefix`, without it.
    public func unprefixed(_ prefix: String) -> ModelWeights {
        var own = ModelWeights()
        for (key, entry) in entries where key.hasPrefix(prefix) {
            own.entries[String(key.dropFirst(prefix.count))] = entry
        }
        for (name, data) in documents where name.hasPrefix(prefix) {
            own.documents[String(name.dropFirst(prefix.count))] = data
        }
        return own
    }

    public func tensor(_ name: String, shape: [Int]) throws(RestoreError) -> Tensor {
        guard case .float32(let tensor)? = entries[name] else { throw RestoreError("missing float tensor '\(name)'") }
        guard tensor.shape == shape else {
            throw RestoreError("tensor '\(name)' has shape \(tensor.shape), expected \(shape)")
        }
        return tensor
    }

    public func matrix(_ name: String, rows: Int, columns: Int) throws(RestoreError) -> InteractionMatrix {
        guard case .int64(let offsets, _)? = entries[name + ".offsets"],
            case .int32(let indices, _)? = entries[name + ".columns"],
            case .float32(let values)? = entries[name + ".values"]
        else { throw RestoreError("missing sparse matrix '\(name)'") }
        guard values.scalars.allSatisfy(\.isFinite) else {
            throw RestoreError("sparse matrix '\(name)' holds non-finite values")
        }
        do {
            return try InteractionMatrix(
                rowCount: rows, columnCount: columns, rowOffsets: offsets.map { Int($0) }, columnIndices: indices,
                values: values.scalars)
        } catch {
            throw RestoreError("sparse matrix '\(name)': \(error.description)")
        }
    }

    /// A dot-product model's two factor tables.
    public mutating func store(_ factors: FactorModel) {
        entries["user_factors"] = .float32(factors.userFactors)
        entries["item_factors"] = .float32(factors.itemFactors)
    }

    public func factorModel(name: String, userCount: Int, itemCount: Int, width: Int) throws(RestoreError)
        -> FactorModel
    {
        FactorModel(
            name: name, userFactors: try tensor("user_factors", shape: [userCount, width]),
            itemFactors: try tensor("item_factors", shape: [itemCount, width]))
    }

    /// The parts every explicit-rating factor model shares: μ, the rating range, biases and factors.
    public mutating func storeRatingModel(
        mean: Float, range: ClosedRange<Float>, userBiases: [Float], itemBiases: [Float], userFactors: Tensor,
        itemFactors: Tensor
    ) {
        entries["global"] = .float32(Tensor(shape: [3], scalars: [mean, range.lowerBound, range.upperBound]))
        entries["user_biases"] = .float32(Tensor(shape: [userBiases.count], scalars: userBiases))
        entries["item_biases"] = .float32(Tensor(shape: [itemBiases.count], scalars: itemBiases))
        store(FactorModel(userFactors: userFactors, itemFactors: itemFactors))
    }

    public func ratingModel(userCount: Int, itemCount: Int, factorCount: Int) throws(RestoreError)
        -> (
            mean: Float, range: ClosedRange<Float>, userBiases: [Float], itemBiases: [Float], userFactors: Tensor,
            itemFactors: Tensor
        )
    {
        let global = try tensor("global", shape: [3]).scalars
        guard global[1] <= global[2] else {
            throw RestoreError("the stored rating range \(global[1])...\(global[2]) is empty")
        }
        return (
            global[0], global[1]...global[2], try tensor("user_biases", shape: [userCount]).scalars,
            try tensor("item_biases", shape: [itemCount]).scalars,
            try tensor("user_factors", shape: [userCount, factorCount]),
            try tensor("item_factors", shape: [itemCount, factorCount])
        )
    }

    /// A neural model's named parameter tensors.
    public mutating func store(parameters: [String: Tensor]) {
        for (name, tensor) in parameters { entries[name] = .float32(tensor) }
    }

    /// The parameter tensors a network of these shapes needs, each checked.
    public func parameters(shapes: [String: [Int]]) throws(RestoreError) -> [String: Tensor] {
        var result: [String: Tensor] = [:]
        for (name, shape) in shapes { result[name] = try tensor(name, shape: shape) }
        return result
    }

    public mutating func store(_ matrix: InteractionMatrix, as name: String) {
        entries[name + ".offsets"] = .int64(matrix.rowOffsets.map { Int64($0) }, shape: [matrix.rowOffsets.count])
        entries[name + ".columns"] = .int32(matrix.columnIndices, shape: [matrix.nonzeroCount])
        entries[name + ".values"] = .float32(Tensor(shape: [matrix.nonzeroCount], scalars: matrix.values))
    }

    /// Item sequences in their order (a sequence model's users' histories): offsets and items.
    public mutating func store(sequences: [[Int32]], as name: String) {
        var offsets: [Int64] = [0]
        for sequence in sequences { offsets.append(offsets.last! + Int64(sequence.count)) }
        entries[name + ".offsets"] = .int64(offsets, shape: [offsets.count])
        entries[name + ".items"] = .int32(sequences.flatMap { $0 }, shape: [Int(offsets.last!)])
    }

    /// The `count` sequences `store(sequences:as:)` wrote, each item checked to be below `itemCount`.
    public func sequences(_ name: String, count: Int, itemCount: Int) throws(RestoreError) -> [[Int32]] {
        guard case .int64(let offsets, _)? = entries[name + ".offsets"],
            case .int32(let items, _)? = entries[name + ".items"]
        else { throw RestoreError("missing sequences '\(name)'") }
        guard offsets.count == count + 1, offsets.first == 0, offsets.last == Int64(items.count),
            zip(offsets, offsets.dropFirst()).allSatisfy({ $0 <= $1 }),
            items.allSatisfy({ $0 >= 0 && Int($0) < itemCount })
        else { throw RestoreError("sequences '\(name)' do not hold \(count) sequences of \(itemCount) items") }
        return (0..<count).map { Array(items[Int(offsets[$0])..<Int(offsets[$0 + 1])]) }
    }

    /// A vector of floats, stored as a 1-D tensor.
    public mutating func store(_ values: [Float], as name: String) {
        entries[name] = .float32(Tensor(shape: [values.count], scalars: values))
    }

    /// The vector `store(_:as:)` wrote, checked to hold `count` values.
    public func vector(_ name: String, count: Int) throws(RestoreError) -> [Float] {
        try tensor(name, shape: [count]).scalars
    }

    /// Flags (one per user or item), stored as 0/1 integers.
    public mutating func store(flags: [Bool], as name: String) {
        entries[name] = .int32(flags.map { $0 ? 1 : 0 }, shape: [flags.count])
    }

    public func flags(_ name: String, count: Int) throws(RestoreError) -> [Bool] {
        guard case .int32(let values, let shape)? = entries[name], shape == [count] else {
            throw RestoreError("missing or mis-shaped flags '\(name)' (expected \(count))")
        }
        return values.map { $0 != 0 }
    }

    /// A neighbourhood model's state: its `[rows, rows]` neighbour lists and the users' histories.
    public mutating func store(neighbours: InteractionMatrix, history: InteractionMatrix) {
        store(neighbours, as: "neighbours")
        store(history, as: "history")
    }

    public func neighbourhood(rows: Int, userCount: Int, itemCount: Int) throws(RestoreError)
        -> (neighbours: InteractionMatrix, history: InteractionMatrix)
    {
        (
            try matrix("neighbours", rows: rows, columns: rows),
            try matrix("history", rows: userCount, columns: itemCount)
        )
    }
}

extension ModelWeights {
    /// A feature model's output scale: the regression offset (training mean) and rating range.
    public mutating func storeRatingScale(offset: Float, range: ClosedRange<Float>?) {
        let scalars = [offset] + (range.map { [$0.lowerBound, $0.upperBound] } ?? [])
        entries["rating_scale"] = .float32(Tensor(shape: [scalars.count], scalars: scalars))
    }

    public func ratingScale() throws(RestoreError) -> (offset: Float, range: ClosedRange<Float>?) {
        guard case .float32(let tensor)? = entries["rating_scale"], [1, 3].contains(tensor.scalarCount) else {
            throw RestoreError("missing float tensor 'rating_scale' of 1 or 3 values")
        }
        let values = tensor.scalars
        guard values.count == 1 || values[1] <= values[2] else { throw RestoreError("rating_scale: empty range") }
        return (values[0], values.count == 3 ? values[1]...values[2] : nil)
    }
}

import RecKitTensor

/// A tensor in a computation that reverse-mode automatic differentiation can run backwards
/// through (a tape recorded as the graph of each result's inputs, micrograd style).
///
/// A `Variable` made by an operation keeps its inputs and the rule that turns its gradient into
/// theirs; inputs never point at their results, so graphs hold no reference cycles and are freed
/// with their last result. `backward()` visits the graph in reverse topological order, accumulating
/// gradients into every variable that `requiresGradient` (parameters keep theirs until
/// `zeroGradient()`; intermediate results drop theirs once used).
public final class Variable {
    public var value: Tensor
    /// The accumulated dense gradient (same shape as `value`).
    public var gradient: Tensor?
    /// Row gradients of an embedding table (`isSparse`): only the rows a batch looked up.
    public var sparseGradient: SparseRows?
    public let requiresGradient: Bool
    /// Whether row lookups leave a `sparseGradient` instead of a dense one (embedding tables).
    public var isSparse = false
    let inputs: [Variable]
    let rule: ((Tensor, [Variable]) -> Void)?

    /// A leaf: data (`requiresGradient: false`) or a parameter.
    public init(_ value: Tensor, requiresGradient: Bool = false) {
        self.value = value
        self.requiresGradient = requiresGradient
        self.inputs = []
        self.rule = nil
    }

    init(value: Tensor, inputs: [Variable], rule: @escaping (Tensor, [Variable]) -> Void) {
        self.value = value
        self.requiresGradient = true
        self.inputs = inputs
        self.rule = rule
    }

    /// The result of an operation: recorded with its gradient rule when gradients are being
    /// recorded and an input needs one, else a plain constant.
    static func result(
        _ value: Tensor, _ inputs: [Variable], rule: @escaping (_ gradient: Tensor, _ inputs: [Variable]) -> Void
    ) -> Variable {
        if GradientRecording.isEnabled && inputs.contains(where: { $0.requiresGradient }) {
            return Variable(value: value, inputs: inputs, rule: rule)
        }
        return Variable(value)
    }

    public var shape: [Int] { value.shape }

    /// The same value, cut from the graph.
    public func detached() -> Variable { Variable(value) }

    /// Adds `gradient` to this variable's (when it needs one).
    public func accumulate(_ gradient: Tensor) {
        guard requiresGradient else { return }
        precondition(
            gradient.shape == value.shape, "gradient shaped \(gradient.shape) for a value shaped \(value.shape)")
        if self.gradient == nil { self.gradient = gradient } else { self.gradient!.add(gradient) }
    }

    /// Adds gradient rows for the table rows at `indices` (sparse for `isSparse` tables).
    public func accumulate(rows values: Tensor, at indices: [Int32]) {
        guard requiresGradient else { return }
        if isSparse && inputs.isEmpty {
            if sparseGradient == nil {
                sparseGradient = SparseRows(indices: [], values: Tensor.zeros([0, value.shape[1]]))
            }
            sparseGradient!.append(indices: indices, values: values)
        } else {
            accumulate(Tensor.scatterAdding(rows: values, at: indices, rowCount: value.shape[0]))
        }
    }

    public func zeroGradient() {
        gradient = nil
        sparseGradient = nil
    }

    /// Back-propagates from this variable, seeded with ones (d self / d self) unless `seed` is given.
    public func backward(seed: Tensor? = nil) {
        // Reverse topological order by an iterative depth-first search (deep graphs, e.g. long
        // recurrences, would overflow a recursive one).
        var order: [Variable] = []
        var visited = Set<ObjectIdentifier>()
        var stack: [(Variable, Int)] = [(self, 0)]
        visited.insert(ObjectIdentifier(self))
        while let (node, next) = stack.popLast() {
            if next < node.inputs.count {
                stack.append((node, next + 1))
                let input = node.inputs[next]
                if input.requiresGradient && visited.insert(ObjectIdentifier(input)).inserted {
                    stack.append((input, 0))
                }
            } else {
                order.append(node)
            }
        }
        accumulate(seed ?? Tensor(repeating: 1, shape: value.shape))
        for node in order.reversed() {
            guard let rule = node.rule, let gradient = node.gradient else { continue }
            rule(gradient, node.inputs)
            node.gradient = nil // an intermediate result's gradient is spent
        }
    }
}

/// Gradient rows for some rows of a table, in lookup order (an index may repeat).
public struct SparseRows: Sendable, Equatable {
    public var indices: [Int32]
    /// `[indices.count, columns]`.
    public var values: Tensor

    public init(indices: [Int32], values: Tensor) {
        precondition(
            values.rank == 2 && values.shape[0] == indices.count,
            "SparseRows: \(values.shape) for \(indices.count) indices")
        self.indices = indices
        self.values = values
    }

    mutating func append(indices more: [Int32], values rows: Tensor) {
        precondition(
            rows.rank == 2 && rows.shape[1] == values.shape[1] && rows.shape[0] == more.count,
            "SparseRows.append: \(rows.shape)")
        indices += more
        values = Tensor(shape: [indices.count, values.shape[1]], scalars: values.scalars + rows.scalars)
    }

    /// Each distinct row once, ascending, with its rows summed (itself when its rows already are).
    public func coalesced() -> SparseRows {
        if zip(indices, indices.dropFirst()).allSatisfy({ $0 < $1 }) { return self }
        let width = values.shape[1]
        let (unique, slots) = Self.distinctRows(of: indices, rowCount: Int(indices.max() ?? -1) + 1)
        // Each row's lookups summed in lookup order.
        var sums = [Float](repeating: 0, count: unique.count * width)
        sums.withUnsafeMutableBufferPointer { sums in
            values.scalars.withUnsafeBufferPointer { rows in
                for (position, slot) in slots.enumerated() {
                    let target = sums.baseAddress! + slot * width
                    let source = rows.baseAddress! + position * width
                    for j in 0..<width { target[j] += source[j] }
                }
            }
        }
        return SparseRows(indices: unique, values: Tensor(shape: [unique.count, width], scalars: sums))
    }

    /// The distinct rows of `indices` ascending, and for each lookup its row's place among them.
    /// Lookups into a small table (at most 32 rows per lookup) mark the rows and scan the table;
    /// others sort and search: the same answer either way, without hashing.
    public static func distinctRows(of indices: [Int32], rowCount: Int) -> (rows: [Int32], slots: [Int]) {
        if rowCount <= 32 * max(1, indices.count) {
            var slotOfRow = [Int32](repeating: -1, count: rowCount)
            for index in indices { slotOfRow[Int(index)] = 0 }
            var rows: [Int32] = []
            for row in 0..<rowCount where slotOfRow[row] == 0 {
                slotOfRow[row] = Int32(rows.count)
                rows.append(Int32(row))
            }
            return (rows, indices.map { Int(slotOfRow[Int($0)]) })
        }
        var rows = indices.sorted()
        var kept = 0
        for index in rows where kept == 0 || rows[kept - 1] != index {
            rows[kept] = index
            kept += 1
        }
        rows.removeLast(rows.count - kept)
        let slots = indices.map { index in
            var (low, high) = (0, rows.count)
            while low < high {
                let middle = (low + high) / 2
                if rows[middle] < index { low = middle + 1 } else { high = middle }
            }
            return low
        }
        return (rows, slots)
    }

    /// The dense `[rowCount, columns]` gradient.
    public func dense(rowCount: Int) -> Tensor { Tensor.scatterAdding(rows: values, at: indices, rowCount: rowCount) }
}

/// Whether operations record their graph for `backward()`: on by default, off inside
/// `GradientRecording.disabled { ... }` (inference, evaluation), per task or thread.
public enum GradientRecording {
    @TaskLocal public static var isEnabled = true

    public static func disabled<T>(_ body: () throws -> T) rethrows -> T {
        try $isEnabled.withValue(false) { try body() }
    }
}

import Foundation
import RecKitTensor

/// A sparse matrix in compressed rows: row r's entries are positions `rowStarts[r]..<rowStarts[r + 1]`
/// of `columns` and `values`. The input of `Variable.sparseProduct` and the pattern of
/// `Variable.sampledProduct`, so that a model over sparse rows (an autoencoder of observed ratings)
/// costs O(nonzeros · width) instead of densifying its input and output.
public struct SparseMatrix: Sendable, Equatable {
    public let rowCount: Int
    public let columnCount: Int
    public let rowStarts: [Int]
    public let columns: [Int32]
    public let values: [Float]

    public init(rowCount: Int, columnCount: Int, rowStarts: [Int], columns: [Int32], values: [Float]) {
        precondition(
            rowStarts.count == rowCount + 1 && rowStarts.first == 0 && rowStarts.last == columns.count
                && values.count == columns.count,
            "SparseMatrix: rowStarts must run from 0 to the entry count, one value per entry")
        precondition(columns.allSatisfy { $0 >= 0 && Int($0) < columnCount }, "SparseMatrix: a column out of range")
        self.rowCount = rowCount
        self.columnCount = columnCount
        self.rowStarts = rowStarts
        self.columns = columns
        self.values = values
    }

    public var entryCount: Int { columns.count }

    /// The rows of each entry, in entry order.
    public var entryRows: [Int32] {
        var rows = [Int32](repeating: 0, count: entryCount)
        for row in 0..<rowCount { for position in rowStarts[row]..<rowStarts[row + 1] { rows[position] = Int32(row) } }
        return rows
    }

    /// The entries by row (their own order).
    var byRow: EntryGroups { EntryGroups(starts: rowStarts, positions: nil) }

    /// The entries grouped by column, ascending positions within a column.
    var byColumn: EntryGroups {
        var starts = [Int](repeating: 0, count: columnCount + 1)
        for column in columns { starts[Int(column) + 1] += 1 }
        for c in 0..<columnCount { starts[c + 1] += starts[c] }
        var next = Array(starts.dropLast())
        var positions = [Int](repeating: 0, count: entryCount)
        for (position, column) in columns.enumerated() {
            positions[next[Int(column)]] = position
            next[Int(column)] += 1
        }
        return EntryGroups(starts: starts, positions: positions)
    }
}

extension Variable {
    /// X·W for a sparse X `[rows, columns]` and W `[columns, width]` (SpMM): each output row is the
    /// sum of W's rows at the row's columns, weighted by their values. O(nonzeros · width) both ways;
    /// rows (and, backward, W's rows) in parallel chunks, each summed in a fixed order.
    public static func sparseProduct(_ x: SparseMatrix, _ weight: Variable) -> Variable {
        precondition(
            weight.value.rank == 2 && weight.value.shape[0] == x.columnCount,
            "sparseProduct: a [\(x.rowCount), \(x.columnCount)] matrix times \(weight.value.shape)")
        let width = weight.value.shape[1]
        let output = SparseKernels.weightedRowSums(
            x.byRow, scales: x.values, sourceRows: x.columns, of: weight.value.scalars, width: width)
        return result(Tensor(shape: [x.rowCount, width], scalars: output), [weight]) { g, inputs in
            // dW[c] = Σ over column c's entries of value · g[row].
            let gradient = SparseKernels.weightedRowSums(
                x.byColumn, scales: x.values, sourceRows: x.entryRows, of: g.scalars, width: width)
            inputs[0].accumulate(Tensor(shape: [x.columnCount, width], scalars: gradient))
        }
    }

    /// The entries of A·Bᵀ at `pattern`'s positions only (SDDMM): for each entry (r, c), A[r]·B[c];
    /// A is `[pattern.rowCount, k]`, B `[pattern.columnCount, k]`; the result is `[entries]` in the
    /// pattern's order (its values are not used). O(entries · k) both ways.
    public static func sampledProduct(_ a: Variable, _ b: Variable, at pattern: SparseMatrix) -> Variable {
        precondition(
            a.value.rank == 2 && b.value.rank == 2 && a.value.shape[0] == pattern.rowCount
                && b.value.shape[0] == pattern.columnCount && a.value.shape[1] == b.value.shape[1],
            "sampledProduct: \(a.value.shape) · \(b.value.shape)ᵀ does not fit the pattern")
        let k = a.value.shape[1]
        var output = [Float](repeating: 0, count: pattern.entryCount)
        a.value.scalars.withUnsafeBufferPointer { a in
            b.value.scalars.withUnsafeBufferPointer { b in
                output.withUnsafeMutableBufferPointer { out in
                    let (a, b, out) = (
                        SharedPointer(a.baseAddress!), SharedPointer(b.baseAddress!), SharedPointer(out.baseAddress!)
                    )
                    SparseKernels.rows(pattern.rowCount, work: pattern.entryCount * k) { row in
                        for position in pattern.rowStarts[row]..<pattern.rowStarts[row + 1] {
                            out.pointer[position] = VectorKernels.dot(
                                a.pointer + row * k, b.pointer + Int(pattern.columns[position]) * k, count: k)
                        }
                    }
                }
            }
        }
        return result(Tensor(shape: [pattern.entryCount], scalars: output), [a, b]) { g, inputs in
            let (a, b) = (inputs[0], inputs[1])
            if a.requiresGradient {
                // dA[r] = Σ over row r's entries of g · B[c].
                let gradient = SparseKernels.weightedRowSums(
                    pattern.byRow, scales: g.scalars, sourceRows: pattern.columns, of: b.value.scalars, width: k)
                a.accumulate(Tensor(shape: [pattern.rowCount, k], scalars: gradient))
            }
            if b.requiresGradient {
                // dB[c] = Σ over column c's entries of g · A[r].
                let gradient = SparseKernels.weightedRowSums(
                    pattern.byColumn, scales: g.scalars, sourceRows: pattern.entryRows, of: a.value.scalars, width: k)
                b.accumulate(Tensor(shape: [pattern.columnCount, k], scalars: gradient))
            }
        }
    }
}

/// A raw pointer the worker threads share; each writes only its own rows.
struct SharedPointer<T>: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<T>
    init(_ pointer: UnsafeMutablePointer<T>) { self.pointer = pointer }
    init(_ pointer: UnsafePointer<T>) { self.pointer = UnsafeMutablePointer(mutating: pointer) }
}

/// A sparse matrix's entries grouped by rows or by columns: group g holds the entry positions
/// `positions[starts[g]..<starts[g + 1]]` (or, without `positions`, that range itself).
struct EntryGroups: Sendable {
    let starts: [Int]
    let positions: [Int]?
    var count: Int { starts.count - 1 }
}

enum SparseKernels {
    /// For every group g: Σ over its entries p of `scales[p]` · row `sourceRows[p]` of `source`
    /// (`[?, width]`), as a `[groups, width]` array. Groups in parallel, each summed in entry order.
    static func weightedRowSums(
        _ groups: EntryGroups, scales: [Float], sourceRows: [Int32], of source: [Float], width: Int
    ) -> [Float] {
        var output = [Float](repeating: 0, count: groups.count * width)
        source.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { out in
                let (source, out) = (SharedPointer(source.baseAddress!), SharedPointer(out.baseAddress!))
                rows(groups.count, work: scales.count * width) { group in
                    for index in groups.starts[group]..<groups.starts[group + 1] {
                        let position = groups.positions?[index] ?? index
                        VectorKernels.axpy(
                            scales[position], source.pointer + Int(sourceRows[position]) * width,
                            out.pointer + group * width, count: width)
                    }
                }
            }
        }
        return output
    }

    /// Calls `body(row)` for every row in `0..<count`, in parallel chunks when the work is large enough
    /// to pay for threads. Each row's own computation is sequential, so results do not depend on threads.
    static func rows(_ count: Int, work: Int, _ body: @Sendable (Int) -> Void) {
        let threads = work < 1 << 16 ? 1 : Parallel.defaultThreadCount
        let chunks = Parallel.chunks(count: count, chunkCount: max(1, min(count, 8 * threads)))
        Parallel.forEach(chunkCount: chunks.count, threadCount: threads) { chunk in
            for row in chunks[chunk] { body(row) }
        }
    }
}

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

    /// The entries grouped by column (ascending positions within a column): for a column c, the
    /// positions `byColumn.positions[byColumn.starts[c]..<byColumn.starts[c + 1]]`.
    var byColumn: (starts: [Int], positions: [Int]) {
        var starts = [Int](repeating: 0, count: columnCount + 1)
        for column in columns { starts[Int(column) + 1] += 1 }
        for c in 0..<columnCount { starts[c + 1] += starts[c] }
        var next = Array(starts.dropLast())
        var positions = [Int](repeating: 0, count: entryCount)
        for (position, column) in columns.enumerated() {
            positions[next[Int(column)]] = position
            next[Int(column)] += 1
        }
        return (starts, positions)
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
        var output = [Float](repeating: 0, count: x.rowCount * width)
        weight.value.scalars.withUnsafeBufferPointer { w in
            output.withUnsafeMutableBufferPointer { out in
                let (w, out) = (SharedPointer(w.baseAddress!), SharedPointer(out.baseAddress!))
                SparseKernels.rows(x.rowCount, work: x.entryCount * width) { row in
                    for position in x.rowStarts[row]..<x.rowStarts[row + 1] {
                        VectorKernels.axpy(
                            x.values[position], w.pointer + Int(x.columns[position]) * width,
                            out.pointer + row * width, count: width)
                    }
                }
            }
        }
        return result(Tensor(shape: [x.rowCount, width], scalars: output), [weight]) { g, inputs in
            // dW[c] = Σ over column c's entries of value · g[row].
            let (starts, positions) = x.byColumn
            let rows = x.entryRows
            var gradient = [Float](repeating: 0, count: x.columnCount * width)
            g.scalars.withUnsafeBufferPointer { g in
                gradient.withUnsafeMutableBufferPointer { out in
                    let (g, out) = (SharedPointer(g.baseAddress!), SharedPointer(out.baseAddress!))
                    SparseKernels.rows(x.columnCount, work: x.entryCount * width) { column in
                        for position in positions[starts[column]..<starts[column + 1]] {
                            VectorKernels.axpy(
                                x.values[position], g.pointer + Int(rows[position]) * width,
                                out.pointer + column * width, count: width)
                        }
                    }
                }
            }
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
            "sampledProduct: \(a.value.shape) · \(b.value.shape)ᵀ, pattern \(pattern.rowCount)×\(pattern.columnCount)"
        )
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
                var gradient = [Float](repeating: 0, count: pattern.rowCount * k)
                g.scalars.withUnsafeBufferPointer { g in
                    b.value.scalars.withUnsafeBufferPointer { b in
                        gradient.withUnsafeMutableBufferPointer { out in
                            let (g, b, out) = (
                                SharedPointer(g.baseAddress!), SharedPointer(b.baseAddress!),
                                SharedPointer(out.baseAddress!)
                            )
                            SparseKernels.rows(pattern.rowCount, work: pattern.entryCount * k) { row in
                                for position in pattern.rowStarts[row]..<pattern.rowStarts[row + 1] {
                                    VectorKernels.axpy(
                                        g.pointer[position], b.pointer + Int(pattern.columns[position]) * k,
                                        out.pointer + row * k, count: k)
                                }
                            }
                        }
                    }
                }
                a.accumulate(Tensor(shape: [pattern.rowCount, k], scalars: gradient))
            }
            if b.requiresGradient {
                // dB[c] = Σ over column c's entries of g · A[r].
                let (starts, positions) = pattern.byColumn
                let rows = pattern.entryRows
                var gradient = [Float](repeating: 0, count: pattern.columnCount * k)
                g.scalars.withUnsafeBufferPointer { g in
                    a.value.scalars.withUnsafeBufferPointer { a in
                        gradient.withUnsafeMutableBufferPointer { out in
                            let (g, a, out) = (
                                SharedPointer(g.baseAddress!), SharedPointer(a.baseAddress!),
                                SharedPointer(out.baseAddress!)
                            )
                            SparseKernels.rows(pattern.columnCount, work: pattern.entryCount * k) { column in
                                for position in positions[starts[column]..<starts[column + 1]] {
                                    VectorKernels.axpy(
                                        g.pointer[position], a.pointer + Int(rows[position]) * k,
                                        out.pointer + column * k, count: k)
                                }
                            }
                        }
                    }
                }
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

enum SparseKernels {
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

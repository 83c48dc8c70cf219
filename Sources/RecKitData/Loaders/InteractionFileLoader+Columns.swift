import RecKitTensor

/// The final columns of a load, allocated once at an upper bound of the row count.
struct ColumnArrays {
    var users: [Int32], items: [Int32], ratings: [Float], timestamps: [Int64], weights: [Float]

    /// Columns of `rowCount` uninitialised trivial values: no time is spent zeroing memory the
    /// parsers overwrite; rows never written are dropped by `move` and `truncate` before any read.
    init(rowCount: Int, plan: ColumnPlan) {
        func column<T: BitwiseCopyable>(_ present: Bool) -> [T] {
            present ? [T](unsafeUninitializedCapacity: rowCount) { _, count in count = rowCount } : []
        }
        users = column(true)
        items = column(true)
        ratings = column(plan.rating != nil)
        timestamps = column(plan.timestamp != nil)
        weights = column(plan.weight != nil)
    }

    mutating func withSink<R>(_ body: (ColumnSink) -> R) -> R {
        users.withUnsafeMutableBufferPointer { u in
            items.withUnsafeMutableBufferPointer { i in
                ratings.withUnsafeMutableBufferPointer { r in
                    timestamps.withUnsafeMutableBufferPointer { t in
                        weights.withUnsafeMutableBufferPointer { w in
                            body(
                                ColumnSink(
                                    // An absent column is an empty array, whose base address may still be non-nil.
                                    users: u.baseAddress!, items: i.baseAddress!,
                                    ratings: r.isEmpty ? nil : r.baseAddress,
                                    timestamps: t.isEmpty ? nil : t.baseAddress,
                                    weights: w.isEmpty ? nil : w.baseAddress))
                        }
                    }
                }
            }
        }
    }

    /// Moves `rows` down to start at `target` (≤ `rows.lowerBound`).
    mutating func move(rows: Range<Int>, to target: Int) {
        guard target != rows.lowerBound, !rows.isEmpty else { return }
        func shift<T>(_ column: inout [T]) {
            guard !column.isEmpty else { return }
            column.withUnsafeMutableBufferPointer { buffer in
                (buffer.baseAddress! + target).update(from: buffer.baseAddress! + rows.lowerBound, count: rows.count)
            }
        }
        shift(&users)
        shift(&items)
        shift(&ratings)
        shift(&timestamps)
        shift(&weights)
    }

    mutating func truncate(to count: Int) {
        func cut<T>(_ column: inout [T]) { if column.count > count { column.removeLast(column.count - count) } }
        cut(&users)
        cut(&items)
        cut(&ratings)
        cut(&timestamps)
        cut(&weights)
    }
}

/// Where a chunk writes its rows: pointers into the final columns, already offset to the chunk's
/// slice. Chunks never overlap, so concurrent writes are safe.
struct ColumnSink: @unchecked Sendable {
    let users: UnsafeMutablePointer<Int32>
    let items: UnsafeMutablePointer<Int32>
    let ratings: UnsafeMutablePointer<Float>?
    let timestamps: UnsafeMutablePointer<Int64>?
    let weights: UnsafeMutablePointer<Float>?

    func advanced(by offset: Int) -> ColumnSink {
        ColumnSink(
            users: users + offset, items: items + offset, ratings: ratings.map { $0 + offset },
            timestamps: timestamps.map { $0 + offset }, weights: weights.map { $0 + offset })
    }
}

import RecKitTensor

/// A sparse matrix in compressed sparse row form: CSR when rows are users, CSC when rows are items.
///
/// Offsets are 64-bit `Int`s, so indices stay correct past 2³¹ stored entries. Within a row the column
/// indices ascend; repeated pairs (from `DuplicatePolicy.keepAll`) sit next to each other.
public struct InteractionMatrix: Sendable, Equatable {
    public let rowCount: Int
    public let columnCount: Int
    /// `[rowCount + 1]`: row `r` occupies `rowOffsets[r]..<rowOffsets[r + 1]`.
    public let rowOffsets: [Int]
    /// `[nonzeroCount]` column indices.
    public let columnIndices: [Int32]
    /// `[nonzeroCount]` values (weight, else rating, else 1).
    public let values: [Float]

    /// Builds from already valid arrays; checks shapes and ordering.
    /// - Throws: `DataError.invalid` when the arrays do not form a CSR matrix.
    public init(rowCount: Int, columnCount: Int, rowOffsets: [Int], columnIndices: [Int32], values: [Float])
        throws(DataError)
    {
        guard rowOffsets.count == rowCount + 1, rowOffsets.first == 0, rowOffsets.last == columnIndices.count,
            values.count == columnIndices.count,
            zip(rowOffsets, rowOffsets.dropFirst()).allSatisfy({ $0 <= $1 }),
            columnIndices.allSatisfy({ $0 >= 0 && Int($0) < columnCount })
        else { throw DataError(.invalid("the arrays do not form a \(rowCount)×\(columnCount) CSR matrix")) }
        self.init(unchecked: rowCount, columnCount, rowOffsets, columnIndices, values)
    }

    init(unchecked rowCount: Int, _ columnCount: Int, _ rowOffsets: [Int], _ columnIndices: [Int32], _ values: [Float])
    {
        self.rowCount = rowCount
        self.columnCount = columnCount
        self.rowOffsets = rowOffsets
        self.columnIndices = columnIndices
        self.values = values
    }

    /// The user × item matrix (CSR by user).
    public static func byUser(_ interactions: Interactions) -> InteractionMatrix {
        build(
            rows: interactions.users, columns: interactions.items, rowCount: interactions.userCount,
            columnCount: interactions.itemCount, interactions: interactions)
    }

    /// The item × user matrix (CSC of the user × item matrix).
    public static func byItem(_ interactions: Interactions) -> InteractionMatrix {
        build(
            rows: interactions.items, columns: interactions.users, rowCount: interactions.itemCount,
            columnCount: interactions.userCount, interactions: interactions)
    }

    /// - Complexity: O(nnz): a copy when the rows already ascend (files grouped by user), else a
    ///   counting-sort scatter; then a parallel sort of rows whose columns arrive out of order.
    private static func build(
        rows: [Int32], columns: [Int32], rowCount: Int, columnCount: Int, interactions: Interactions
    ) -> InteractionMatrix {
        let nonzeroCount = rows.count
        var offsets = [Int](repeating: 0, count: rowCount + 1)
        var ascending = true
        rows.withUnsafeBufferPointer { rowBuffer in
            offsets.withUnsafeMutableBufferPointer { offsetBuffer in
                var previous: Int32 = 0
                for row in rowBuffer {
                    offsetBuffer[Int(row) + 1] &+= 1
                    if row < previous { ascending = false }
                    previous = row
                }
                for index in 0..<rowCount { offsetBuffer[index + 1] &+= offsetBuffer[index] }
            }
        }
        let source = interactions.weights ?? interactions.ratings
        var columnIndices: [Int32]
        var values: [Float]
        if ascending {
            columnIndices = columns
            values = source ?? [Float](repeating: 1, count: nonzeroCount)
        } else {
            columnIndices = [Int32](repeating: 0, count: nonzeroCount)
            values = [Float](repeating: 1, count: nonzeroCount)
            var cursor = offsets
            rows.withUnsafeBufferPointer { rowBuffer in
                columns.withUnsafeBufferPointer { columnBuffer in
                    cursor.withUnsafeMutableBufferPointer { cursorBuffer in
                        columnIndices.withUnsafeMutableBufferPointer { target in
                            values.withUnsafeMutableBufferPointer { valueTarget in
                                for position in 0..<nonzeroCount {
                                    let row = Int(rowBuffer[position])
                                    let slot = cursorBuffer[row]
                                    target[slot] = columnBuffer[position]
                                    if let source { valueTarget[slot] = source[position] }
                                    cursorBuffer[row] = slot + 1
                                }
                            }
                        }
                    }
                }
            }
        }
        sortRows(offsets: offsets, columns: &columnIndices, values: &values)
        return InteractionMatrix(unchecked: rowCount, columnCount, offsets, columnIndices, values)
    }

    /// Sorts each row by column index, stably, in parallel over row chunks.
    private static func sortRows(offsets: [Int], columns: inout [Int32], values: inout [Float]) {
        let rowCount = offsets.count - 1
        let chunks = Parallel.chunks(count: rowCount, chunkCount: max(1, min(64, rowCount / 256)))
        // Look before writing: sorted input (most files) keeps sharing storage with the interactions.
        let unsorted = columns.withUnsafeBufferPointer { buffer in
            let source = Int32ReadBuffer(buffer)
            return Parallel.map(chunkCount: chunks.count) { chunk -> Bool in
                for row in chunks[chunk] where offsets[row + 1] - offsets[row] > 1 {
                    for position in (offsets[row] + 1)..<offsets[row + 1]
                    where source.buffer[position] < source.buffer[position - 1] {
                        return true
                    }
                }
                return false
            }
        }
        guard unsorted.contains(true) else { return }
        columns.withUnsafeMutableBufferPointer { columnBuffer in
            values.withUnsafeMutableBufferPointer { valueBuffer in
                let target = RowSortTarget(columns: columnBuffer, values: valueBuffer)
                Parallel.forEach(chunkCount: chunks.count) { chunk in
                    guard unsorted[chunk] else { return }
                    var keys: [UInt64] = []
                    var savedValues: [Float] = []
                    for row in chunks[chunk] {
                        target.sortRow(offsets[row]..<offsets[row + 1], keys: &keys, savedValues: &savedValues)
                    }
                }
            }
        }
    }

    /// The number of stored entries.
    public var nonzeroCount: Int { columnIndices.count }

    /// The column indices in `row`, ascending.
    public func columns(inRow row: Int) -> ArraySlice<Int32> {
        columnIndices[rowOffsets[row]..<rowOffsets[row + 1]]
    }

    /// The values in `row`, aligned with `columns(inRow:)`.
    public func values(inRow row: Int) -> ArraySlice<Float> {
        values[rowOffsets[row]..<rowOffsets[row + 1]]
    }

    /// The number of entries in `row`.
    public func count(inRow row: Int) -> Int { rowOffsets[row + 1] - rowOffsets[row] }

    /// Whether (`row`, `column`) is stored. - Complexity: O(log entries in the row).
    public func contains(row: Int, column: Int32) -> Bool {
        var low = rowOffsets[row]
        var high = rowOffsets[row + 1]
        while low < high {
            let middle = (low + high) / 2
            if columnIndices[middle] < column { low = middle + 1 } else { high = middle }
        }
        return low < rowOffsets[row + 1] && columnIndices[low] == column
    }

    /// The same pattern with every stored value 1 (a binary matrix).
    public func binarized() -> InteractionMatrix {
        InteractionMatrix(
            unchecked: rowCount, columnCount, rowOffsets, columnIndices, [Float](repeating: 1, count: nonzeroCount))
    }

    /// The same pattern with `values` (one per stored entry).
    public func replacingValues(_ values: [Float]) -> InteractionMatrix {
        precondition(values.count == nonzeroCount, "\(values.count) values for \(nonzeroCount) entries")
        return InteractionMatrix(unchecked: rowCount, columnCount, rowOffsets, columnIndices, values)
    }

    /// The transpose (CSR ↔ CSC), in O(nnz).
    public func transposed() -> InteractionMatrix {
        var offsets = [Int](repeating: 0, count: columnCount + 1)
        for column in columnIndices { offsets[Int(column) + 1] += 1 }
        for index in 0..<columnCount { offsets[index + 1] += offsets[index] }
        var cursor = offsets
        var newColumns = [Int32](repeating: 0, count: nonzeroCount)
        var newValues = [Float](repeating: 0, count: nonzeroCount)
        for row in 0..<rowCount { // rows ascend, so each new row's columns ascend too
            for position in rowOffsets[row]..<rowOffsets[row + 1] {
                let column = Int(columnIndices[position])
                newColumns[cursor[column]] = Int32(row)
                newValues[cursor[column]] = values[position]
                cursor[column] += 1
            }
        }
        return InteractionMatrix(unchecked: columnCount, rowCount, offsets, newColumns, newValues)
    }
}

/// Pointers into the CSR arrays for the parallel row sort; each chunk touches only its own rows.
private struct RowSortTarget: @unchecked Sendable {
    let columns: UnsafeMutableBufferPointer<Int32>
    let values: UnsafeMutableBufferPointer<Float>

    /// Sorts one row; `keys` and `savedValues` are per-thread scratch space.
    func sortRow(_ range: Range<Int>, keys: inout [UInt64], savedValues: inout [Float]) {
        guard range.count > 1 else { return }
        var sorted = true
        for position in range.dropFirst() where columns[position] < columns[position - 1] {
            sorted = false
            break
        }
        if sorted { return }
        if range.count <= 16 { // insertion sort: stable and fast on short rows
            for position in range.dropFirst() {
                let column = columns[position]
                let value = values[position]
                var hole = position
                while hole > range.lowerBound && columns[hole - 1] > column {
                    columns[hole] = columns[hole - 1]
                    values[hole] = values[hole - 1]
                    hole -= 1
                }
                columns[hole] = column
                values[hole] = value
            }
            return
        }
        // Column in the high half, position in the low half: distinct keys, so any sort is stable.
        keys.removeAll(keepingCapacity: true)
        savedValues.removeAll(keepingCapacity: true)
        for position in range {
            keys.append(UInt64(UInt32(bitPattern: columns[position])) << 32 | UInt64(position - range.lowerBound))
            savedValues.append(values[position])
        }
        keys.withUnsafeMutableBufferPointer { quicksort($0, 0, $0.count - 1) }
        for (offset, key) in keys.enumerated() {
            columns[range.lowerBound + offset] = Int32(truncatingIfNeeded: key >> 32)
            values[range.lowerBound + offset] = savedValues[Int(key & 0xFFFF_FFFF)]
        }
    }
}

/// In-place quicksort of distinct keys (median of three, insertion sort below 24 elements);
/// faster than the standard library's stable sort for the row keys above.
private func quicksort(_ keys: UnsafeMutableBufferPointer<UInt64>, _ low: Int, _ high: Int) {
    var low = low
    var high = high
    while high - low > 24 {
        let middle = low + (high - low) / 2
        if keys[middle] < keys[low] { keys.swapAt(middle, low) }
        if keys[high] < keys[low] { keys.swapAt(high, low) }
        if keys[high] < keys[middle] { keys.swapAt(high, middle) }
        let pivot = keys[middle]
        var i = low
        var j = high
        while i <= j {
            while keys[i] < pivot { i += 1 }
            while keys[j] > pivot { j -= 1 }
            if i <= j {
                keys.swapAt(i, j)
                i += 1
                j -= 1
            }
        }
        // Recurse into the smaller side, loop on the larger: O(log n) stack.
        if j - low < high - i {
            quicksort(keys, low, j)
            low = i
        } else {
            quicksort(keys, i, high)
            high = j
        }
    }
    if high <= low { return }
    for position in (low + 1)...high {
        let key = keys[position]
        var hole = position
        while hole > low && keys[hole - 1] > key {
            keys[hole] = keys[hole - 1]
            hole -= 1
        }
        keys[hole] = key
    }
}

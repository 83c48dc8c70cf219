import RecKitTensor

/// How one chunk of a file encodes one ID column in its slice of the final array: the integer IDs
/// themselves while every ID is a canonical `Int32`, local string codes from the first one that is not.
struct IDColumnState: @unchecked Sendable { // value type; the dictionary holds only Strings
    private(set) var isString = false
    private var codeByName: [String: Int32] = [:]
    private(set) var names: [String] = []

    /// The value to store for `raw`: the integer, or a local code (switching the slice's first `count`
    /// values to codes on the first non-integer). The caller has checked the encoding.
    @inline(__always)
    mutating func code(
        for raw: UnsafeBufferPointer<UInt8>, encoding: TextEncoding, segment: UnsafeMutablePointer<Int32>, count: Int
    ) -> Int32 {
        let bytes = ByteParsing.trimmed(raw)
        if !isString, let value = ByteParsing.canonicalInt32(bytes) { return value }
        if !isString { switchToStrings(segment: segment, count: count) }
        return code(for: ByteParsing.string(bytes, encoding: encoding) ?? "")
    }

    private mutating func code(for name: String) -> Int32 {
        if let code = codeByName[name] { return code }
        let code = Int32(names.count)
        codeByName[name] = code
        names.append(name)
        return code
    }

    /// Turns the first `count` integer IDs of the slice into local string codes.
    mutating func switchToStrings(segment: UnsafeMutablePointer<Int32>, count: Int) {
        guard !isString else { return }
        isString = true
        for row in 0..<count { segment[row] = code(for: String(segment[row])) }
    }

    /// Replaces the column's values (chunk by chunk, in `segments`) by dense indices in loader order
    /// (ascending IDs: numeric when all are integers) and returns the map.
    static func merge(_ states: [IDColumnState], segments: [Range<Int>], column: inout [Int32], threadCount: Int)
        -> IDMap
    {
        guard states.contains(where: \.isString) else {
            let sortedUnique = IntegerIDIndexer.denseRanks(&column, threadCount: threadCount)
            return IDMap(sortedIntegers: sortedUnique.map(Int64.init))
        }
        var states = states
        column.withUnsafeMutableBufferPointer { buffer in
            for index in states.indices {
                states[index].switchToStrings(
                    segment: buffer.baseAddress! + segments[index].lowerBound, count: segments[index].count)
            }
        }
        let map = IDMap(sorting: states.flatMap(\.names))
        for (index, state) in states.enumerated() {
            let global = state.names.map { map.index(of: $0)! }
            for row in segments[index] { column[row] = global[Int(column[row])] }
        }
        return map
    }
}

/// Turns integer IDs into ranks among the distinct IDs (0 for the smallest), in place.
enum IntegerIDIndexer {
    /// Replaces each value by its rank among the distinct values.
    /// - Returns: the distinct values, ascending.
    /// - Complexity: O(n + range) with a lookup table when the range is small (the usual case), else
    ///   O(n log n).
    static func denseRanks(_ values: inout [Int32], threadCount: Int) -> [Int32] {
        guard !values.isEmpty else { return [] }
        let chunks = Parallel.chunks(count: values.count, chunkCount: max(1, threadCount * 4))
        let bounds = values.withUnsafeBufferPointer { buffer in
            let source = Int32ReadBuffer(buffer)
            return Parallel.map(chunkCount: chunks.count, threadCount: threadCount) { chunk -> (Int32, Int32) in
                var low = Int32.max
                var high = Int32.min
                for index in chunks[chunk] {
                    let value = source.buffer[index]
                    low = min(low, value)
                    high = max(high, value)
                }
                return (low, high)
            }
        }
        let low = bounds.map(\.0).min()!
        let high = bounds.map(\.1).max()!
        let range = Int(high) - Int(low) + 1
        if range <= max(1 << 24, 4 * values.count) {
            var table = [Int32](repeating: -1, count: range)
            values.withUnsafeBufferPointer { buffer in
                table.withUnsafeMutableBufferPointer { marks in
                    for value in buffer { marks[Int(value) - Int(low)] = 0 }
                }
            }
            var distinct: [Int32] = []
            var next: Int32 = 0
            for offset in 0..<range where table[offset] == 0 {
                table[offset] = next
                distinct.append(Int32(offset + Int(low)))
                next += 1
            }
            // A plain loop over pointers (a closure call per value cost as much as the lookup).
            table.withUnsafeBufferPointer { lookup in
                values.withUnsafeMutableBufferPointer { buffer in
                    let source = Int32ReadBuffer(lookup)
                    let target = Int32Buffer(buffer)
                    let offset = Int(low)
                    Parallel.forEach(chunkCount: chunks.count, threadCount: threadCount) { chunk in
                        for index in chunks[chunk] {
                            target.buffer[index] = source.buffer[Int(target.buffer[index]) - offset]
                        }
                    }
                }
            }
            return distinct
        }
        var distinct = values.sorted()
        var write = 0
        for read in distinct.indices where read == 0 || distinct[read] != distinct[write - 1] {
            distinct[write] = distinct[read]
            write += 1
        }
        distinct.removeLast(distinct.count - write)
        let lookup = distinct
        remap(&values, chunks: chunks, threadCount: threadCount) { value in
            var lowIndex = 0
            var highIndex = lookup.count
            while lowIndex < highIndex {
                let middle = (lowIndex + highIndex) / 2
                if lookup[middle] < value { lowIndex = middle + 1 } else { highIndex = middle }
            }
            return Int32(lowIndex)
        }
        return distinct
    }

    private static func remap(
        _ values: inout [Int32], chunks: [Range<Int>], threadCount: Int, _ transform: @Sendable (Int32) -> Int32
    ) {
        values.withUnsafeMutableBufferPointer { buffer in
            let target = Int32Buffer(buffer)
            Parallel.forEach(chunkCount: chunks.count, threadCount: threadCount) { chunk in
                for index in chunks[chunk] { target.buffer[index] = transform(target.buffer[index]) }
            }
        }
    }
}

/// A buffer handed to parallel chunks that each write a disjoint index range.
struct Int32Buffer: @unchecked Sendable {
    let buffer: UnsafeMutableBufferPointer<Int32>
    init(_ buffer: UnsafeMutableBufferPointer<Int32>) { self.buffer = buffer }
}

/// A read-only buffer shared by parallel chunks.
struct Int32ReadBuffer: @unchecked Sendable {
    let buffer: UnsafeBufferPointer<Int32>
    init(_ buffer: UnsafeBufferPointer<Int32>) { self.buffer = buffer }
}

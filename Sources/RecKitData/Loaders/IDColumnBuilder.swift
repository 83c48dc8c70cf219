import RecKitTensor

/// Collects one ID column while a chunk of a file is parsed: as integers while every ID is a canonical
/// `Int32`, as interned strings from the first one that is not.
struct IDColumnBuilder {
    /// Integer IDs, or local string codes once `isString`.
    var values: [Int32] = []
    private(set) var isString = false
    private var codeByName: [String: Int32] = [:]
    private(set) var names: [String] = []

    mutating func reserve(_ count: Int) { values.reserveCapacity(count) }

    /// Appends one ID; returns false when the bytes are not valid text in `encoding`.
    @inline(__always)
    mutating func append(_ raw: UnsafeBufferPointer<UInt8>, encoding: TextEncoding) -> Bool {
        let bytes = ByteParsing.trimmed(raw)
        if !isString, let value = ByteParsing.canonicalInt32(bytes) {
            values.append(value)
            return true
        }
        guard let name = ByteParsing.string(bytes, encoding: encoding) else { return false }
        if !isString { switchToStrings() }
        values.append(code(for: name))
        return true
    }

    private mutating func code(for name: String) -> Int32 {
        if let code = codeByName[name] { return code }
        let code = Int32(names.count)
        codeByName[name] = code
        names.append(name)
        return code
    }

    mutating func switchToStrings() {
        guard !isString else { return }
        isString = true
        let integers = values
        values = []
        values.reserveCapacity(integers.count)
        for value in integers { values.append(code(for: String(value))) }
    }

    /// Merges the chunks' columns, in chunk order, into dense indices and an `IDMap` in the loader
    /// order (ascending IDs). Each chunk's storage is released as soon as it is copied.
    static func merge(_ chunks: inout [IDColumnBuilder], threadCount: Int) -> (indices: [Int32], map: IDMap) {
        if chunks.contains(where: \.isString) {
            for index in chunks.indices { chunks[index].switchToStrings() }
            let map = IDMap(sorting: chunks.flatMap(\.names))
            var result: [Int32] = []
            result.reserveCapacity(chunks.reduce(0) { $0 + $1.values.count })
            for index in chunks.indices {
                let global = chunks[index].names.map { map.index(of: $0)! }
                for code in chunks[index].values { result.append(global[Int(code)]) }
                chunks[index] = IDColumnBuilder()
            }
            return (result, map)
        }
        var result: [Int32]
        if chunks.count == 1 {
            result = chunks[0].values
        } else {
            result = []
            result.reserveCapacity(chunks.reduce(0) { $0 + $1.values.count })
            for index in chunks.indices {
                result.append(contentsOf: chunks[index].values)
                chunks[index] = IDColumnBuilder()
            }
        }
        chunks = []
        let sortedUnique = IntegerIDIndexer.denseRanks(&result, threadCount: threadCount)
        return (result, IDMap(sortedIntegers: sortedUnique.map(Int64.init)))
    }
}

/// Turns integer IDs into ranks among the distinct IDs (0 for the smallest), in place.
enum IntegerIDIndexer {
    /// Replaces each value by its rank among the distinct values.
    /// - Returns: the distinct values, ascending.
    /// - Complexity: O(n + range) with a lookup table when the range is small (the usual case), else
    ///   O(n log n).
    static func denseRanks(_ values: inout [Int32], threadCount: Int) -> [Int32] {
        guard let low = values.min(), let high = values.max() else { return [] }
        let range = Int(high) - Int(low) + 1
        if range <= max(1 << 24, 4 * values.count) {
            var table = [Int32](repeating: -1, count: range)
            for value in values { table[Int(value) - Int(low)] = 0 }
            var distinct: [Int32] = []
            var next: Int32 = 0
            for offset in 0..<range where table[offset] == 0 {
                table[offset] = next
                distinct.append(Int32(offset + Int(low)))
                next += 1
            }
            let lookup = table
            remap(&values, threadCount: threadCount) { lookup[Int($0) - Int(low)] }
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
        remap(&values, threadCount: threadCount) { value in
            var lowIndex = 0, highIndex = lookup.count
            while lowIndex < highIndex {
                let middle = (lowIndex + highIndex) / 2
                if lookup[middle] < value { lowIndex = middle + 1 } else { highIndex = middle }
            }
            return Int32(lowIndex)
        }
        return distinct
    }

    private static func remap(_ values: inout [Int32], threadCount: Int, _ transform: @Sendable (Int32) -> Int32) {
        let chunks = Parallel.chunks(count: values.count, chunkCount: max(1, threadCount * 4))
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

import Foundation

/// Splits one record into fields, in place when it holds no quotes, through a scratch buffer when
/// RFC 4180 quoting needs unescaping. One splitter per thread; reused for every record.
final class FieldSplitter {
    let delimiter: Delimiter
    let quoting: Bool
    private(set) var fieldCount = 0
    private var starts: [Int] = []
    private var ends: [Int] = []
    private var base: UnsafePointer<UInt8>?
    private var scratch: UnsafeMutablePointer<UInt8>
    private var scratchCapacity = 256

    init(delimiter: Delimiter, quoting: Bool) {
        self.delimiter = delimiter
        self.quoting = quoting
        scratch = .allocate(capacity: scratchCapacity)
        starts.reserveCapacity(32)
        ends.reserveCapacity(32)
    }

    deinit { scratch.deallocate() }

    /// The bytes of field `index` (unquoted).
    @inline(__always)
    func field(_ index: Int) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(start: base! + starts[index], count: ends[index] - starts[index])
    }

    /// Splits `record`. - Throws: `.unterminatedQuote` (without file or line; the caller adds them).
    @inline(__always)
    func split(_ record: UnsafeBufferPointer<UInt8>) throws(DataError) {
        starts.removeAll(keepingCapacity: true)
        ends.removeAll(keepingCapacity: true)
        fieldCount = 0 // no stale fields after a split that throws
        guard let recordBase = record.baseAddress, record.count > 0 else {
            base = UnsafePointer(scratch)
            starts.append(0)
            ends.append(0)
            fieldCount = 1
            return
        }
        base = recordBase
        let count = record.count
        var start = 0
        switch delimiter {
        case .byte(let separator):
            // One pass finds delimiters and notices quotes.
            for index in 0..<count {
                let byte = recordBase[index]
                if byte == separator {
                    starts.append(start)
                    ends.append(index)
                    start = index + 1
                } else if byte == 0x22 && quoting {
                    try splitQuoted(record)
                    return
                }
            }
        case .doubleColon:
            var index = 0
            while index < count {
                if recordBase[index] == 0x3A && index + 1 < count && recordBase[index + 1] == 0x3A {
                    starts.append(start)
                    ends.append(index)
                    start = index + 2
                    index += 2
                } else {
                    if recordBase[index] == 0x22 && quoting {
                        try splitQuoted(record)
                        return
                    }
                    index += 1
                }
            }
        }
        starts.append(start)
        ends.append(count)
        fieldCount = starts.count
    }

    private func ensureScratch(_ capacity: Int) {
        guard capacity > scratchCapacity else { return }
        scratch.deallocate()
        scratchCapacity = max(capacity, scratchCapacity * 2)
        scratch = .allocate(capacity: scratchCapacity)
    }

    private func splitQuoted(_ record: UnsafeBufferPointer<UInt8>) throws(DataError) {
        starts.removeAll(keepingCapacity: true) // the fast path may have started before it saw a quote
        ends.removeAll(keepingCapacity: true)
        ensureScratch(record.count)
        base = UnsafePointer(scratch)
        let quote: UInt8 = 0x22
        var out = 0
        var index = 0
        let count = record.count
        func isDelimiter(at index: Int) -> Int { // the delimiter's length at `index`, or 0
            switch delimiter {
            case .byte(let separator): return record[index] == separator ? 1 : 0
            case .doubleColon: return index + 1 < count && record[index] == 0x3A && record[index + 1] == 0x3A ? 2 : 0
            }
        }
        while true {
            let fieldStart = out
            if index < count && record[index] == quote {
                index += 1
                var closed = false
                while index < count {
                    if record[index] == quote {
                        if index + 1 < count && record[index + 1] == quote {
                            scratch[out] = quote
                            out += 1
                            index += 2
                        } else {
                            index += 1
                            closed = true
                            break
                        }
                    } else {
                        scratch[out] = record[index]
                        out += 1
                        index += 1
                    }
                }
                guard closed else { throw DataError(.unterminatedQuote) }
                // Text between the closing quote and the delimiter is kept as is (lenient).
                while index < count && isDelimiter(at: index) == 0 {
                    scratch[out] = record[index]
                    out += 1
                    index += 1
                }
            } else {
                while index < count && isDelimiter(at: index) == 0 {
                    scratch[out] = record[index]
                    out += 1
                    index += 1
                }
            }
            starts.append(fieldStart)
            ends.append(out)
            if index >= count { break }
            index += isDelimiter(at: index)
            if index >= count { // a trailing delimiter: one more empty field
                starts.append(out)
                ends.append(out)
                break
            }
        }
        fieldCount = starts.count
    }
}

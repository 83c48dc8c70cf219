import Foundation

/// Reads lines from a byte range of a file in fixed-size blocks, so memory stays at one block per
/// reader whatever the file size.
///
/// A line belongs to the range that holds its first byte, so ranges that split a file at arbitrary
/// offsets together visit every line exactly once. With `quoteAware`, a newline inside a `"…"` field
/// does not end the record (RFC 4180); only a reader starting at offset 0 can know the quote state,
/// so callers use it on a single whole-file range.
struct LineReader {
    let path: String
    var blockSize = 1 << 22

    /// The size of the file in bytes.
    static func size(of path: String) throws(DataError) -> Int {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw DataError(file: path, .fileNotFound)
        }
        guard !isDirectory.boolValue else { throw DataError(file: path, .unreadable("it is a directory")) }
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
            let size = (attributes[.size] as? NSNumber)?.intValue
        else { throw DataError(file: path, .unreadable("its size cannot be read")) }
        return size
    }

    /// Calls `body(record, lineIndex)` for each record starting in `range`, where `lineIndex` is the
    /// 0-based physical line within the range's own lines. A trailing `\r` is removed.
    /// `body` returns false to stop early.
    /// - Returns: the number of physical lines that start in the range.
    @discardableResult
    func forEachRecord(
        in range: Range<Int>, quoteAware: Bool = false,
        _ body: (UnsafeBufferPointer<UInt8>, Int) throws(DataError) -> Bool
    ) throws(DataError) -> Int {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else {
            throw DataError(file: path, .unreadable(String(cString: strerror(errno))))
        }
        defer { close(descriptor) }
        var capacity = blockSize
        var buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
        defer { buffer.deallocate() }
        var filled = 0
        var readOffset = range.lowerBound == 0 ? 0 : range.lowerBound - 1
        var bufferFileOffset = readOffset       // file offset of buffer[0]
        var skipping = range.lowerBound > 0     // drop bytes up to the first newline at or after start - 1
        var atEnd = false
        var lineIndex = 0
        var inQuote = false
        var scanFrom = 0                        // quote-aware scanning resumes here within the buffer

        while true {
            if !atEnd {
                if filled == capacity {
                    let bigger = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity * 2)
                    bigger.update(from: buffer, count: filled)
                    buffer.deallocate()
                    buffer = bigger
                    capacity *= 2
                }
                let count = pread(descriptor, buffer + filled, capacity - filled, off_t(readOffset))
                if count < 0 { throw DataError(file: path, .unreadable(String(cString: strerror(errno)))) }
                if count == 0 { atEnd = true }
                filled += count
                readOffset += count
            }
            var position = 0
            if skipping {
                guard let newline = memchr(buffer, 0x0A, filled) else {
                    if atEnd { return 0 }
                    bufferFileOffset += filled
                    filled = 0
                    continue
                }
                position = buffer.distance(to: newline.assumingMemoryBound(to: UInt8.self)) + 1
                skipping = false
                scanFrom = position
            }
            while position < filled {
                if bufferFileOffset + position >= range.upperBound { return lineIndex }
                var end = -1
                var embeddedNewlines = 0
                if quoteAware {
                    var index = max(position, scanFrom)
                    while index < filled {
                        let byte = buffer[index]
                        if byte == UInt8(ascii: "\"") {
                            inQuote.toggle()
                        } else if byte == 0x0A {
                            if !inQuote { end = index; break }
                        }
                        index += 1
                    }
                    if end < 0 { scanFrom = index }
                } else if let newline = memchr(buffer + position, 0x0A, filled - position) {
                    end = buffer.distance(to: newline.assumingMemoryBound(to: UInt8.self))
                }
                if end < 0 {
                    guard atEnd else { break }
                    end = filled            // last line without a newline
                }
                if quoteAware {
                    for index in position..<end where buffer[index] == 0x0A { embeddedNewlines += 1 }
                }
                var lineEnd = end
                if lineEnd > position && buffer[lineEnd - 1] == 0x0D { lineEnd -= 1 }
                let record = UnsafeBufferPointer(start: buffer + position, count: lineEnd - position)
                if try !body(record, lineIndex) { return lineIndex + 1 + embeddedNewlines }
                lineIndex += 1 + embeddedNewlines
                position = end + 1
                scanFrom = position
                inQuote = false
            }
            if atEnd { return lineIndex }
            // Keep the partial line; read more behind it.
            let remaining = filled - position
            if position > 0 {
                if remaining > 0 { buffer.update(from: buffer + position, count: remaining) }
                bufferFileOffset += position
                scanFrom -= position
                filled = remaining
            }
        }
    }
}

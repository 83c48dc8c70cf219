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

    /// The mean bytes per line, from up to 16 windows of 64 KiB spread over the file.
    func meanLineLength(fileSize: Int) throws(DataError) -> Double {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw DataError(file: path, .unreadable(String(cString: strerror(errno)))) }
        defer { close(descriptor) }
        let window = 1 << 16
        let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: window)
        defer { buffer.deallocate() }
        let windowCount = max(1, min(16, fileSize / window))
        var lines = 0
        var bytes = 0
        for index in 0..<windowCount {
            let offset = fileSize <= window ? 0 : (fileSize - window) / max(1, windowCount - 1) * index
            let read = pread(descriptor, buffer, window, off_t(offset))
            guard read > 0 else { continue }
            // Bytes between the first and the last newline of the window hold whole lines.
            var first = -1
            var last = -1
            var count = 0
            for position in 0..<read where buffer[position] == 0x0A {
                if first < 0 { first = position }
                last = position
                count += 1
            }
            if count >= 2 {
                lines += count - 1
                bytes += last - first
            }
        }
        return lines > 0 ? max(2, Double(bytes) / Double(lines)) : Double(max(fileSize, 2))
    }

    /// The number of newline bytes in `range`.
    func countNewlines(in range: Range<Int>) throws(DataError) -> Int {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw DataError(file: path, .unreadable(String(cString: strerror(errno)))) }
        defer { close(descriptor) }
        let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: blockSize)
        defer { buffer.deallocate() }
        var offset = range.lowerBound
        var count = 0
        while offset < range.upperBound {
            let read = pread(descriptor, buffer, min(blockSize, range.upperBound - offset), off_t(offset))
            if read < 0 { throw DataError(file: path, .unreadable(String(cString: strerror(errno)))) }
            if read == 0 { break }
            var position = 0
            while position < read, let hit = memchr(buffer + position, 0x0A, read - position) {
                count += 1
                position = buffer.distance(to: hit.assumingMemoryBound(to: UInt8.self)) + 1
            }
            offset += read
        }
        return count
    }

    /// Calls `body(record, lineIndex)` for each record starting in `range`, where `lineIndex` is the
    /// 0-based physical line within the range's own lines. A trailing `\r` is removed.
    /// `body` returns false to stop early.
    ///
    /// `fast`, when given, is offered each line first, as all the bytes read from its start on: it
    /// returns how many bytes it consumed (one whole line with its newline), or 0 to pass the line to
    /// `body`. This spares a second scan of lines that a caller parses in one pass.
    /// - Returns: the number of physical lines that start in the range.
    @discardableResult
    func forEachRecord(
        in range: Range<Int>, quoteAware: Bool = false, fast: (UnsafeBufferPointer<UInt8>, Int) -> Int = { _, _ in 0 },
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
        var bufferFileOffset = readOffset // file offset of buffer[0]
        var skipping = range.lowerBound > 0 // drop bytes up to the first newline at or after start - 1
        var atEnd = false
        var lineIndex = 0
        var inQuote = false
        var scanFrom = 0 // quote-aware scanning resumes here within the buffer

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
                if !quoteAware {
                    let consumed = fast(
                        UnsafeBufferPointer(start: buffer + position, count: filled - position), lineIndex)
                    if consumed > 0 {
                        lineIndex += 1
                        position += consumed
                        scanFrom = position
                        continue
                    }
                }
                var end = -1
                var embeddedNewlines = 0
                if quoteAware {
                    var index = max(position, scanFrom)
                    while index < filled {
                        let byte = buffer[index]
                        if byte == UInt8(ascii: "\"") {
                            inQuote.toggle()
                        } else if byte == 0x0A {
                            if !inQuote {
                                end = index
                                break
                            }
                        }
                        index += 1
                    }
                    if end < 0 { scanFrom = index }
                } else if let newline = memchr(buffer + position, 0x0A, filled - position) {
                    end = buffer.distance(to: newline.assumingMemoryBound(to: UInt8.self))
                }
                if end < 0 {
                    guard atEnd else { break }
                    end = filled // last line without a newline
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

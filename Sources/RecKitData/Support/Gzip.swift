import CompressNIO
import Foundation
import NIOCore

/// gzip files through compress-nio (zlib): a streaming writer for large outputs and a whole-file reader.
enum Gzip {
    /// Writes a gzip file block by block; `finish()` completes it. Each block is flushed to the file,
    /// so memory stays at one block.
    final class Writer {
        private let compressor: NIOCompressor
        private let file: UnsafeMutablePointer<FILE>
        let path: String

        init(path: String) throws(DataError) {
            guard let file = fopen(path, "wb") else {
                throw DataError(file: path, .unreadable(String(cString: strerror(errno))))
            }
            self.file = file
            self.path = path
            compressor = CompressionAlgorithm.gzip().compressor
            do { try compressor.startStream() } catch {
                fclose(file)
                throw DataError(file: path, .invalid("gzip: \(error)"))
            }
        }

        func write(_ bytes: [UInt8]) throws(DataError) { try compress(bytes, flush: .sync) }

        /// Ends the gzip stream and closes the file.
        func finish() throws(DataError) {
            try compress([], flush: .finish)
            try? compressor.finishStream()
            guard fclose(file) == 0 else {
                throw DataError(file: path, .unreadable("write failed: \(String(cString: strerror(errno)))"))
            }
        }

        private func compress(_ bytes: [UInt8], flush: CompressNIOFlush) throws(DataError) {
            var input = NIOCore.ByteBuffer(bytes: bytes)
            let output: NIOCore.ByteBuffer
            do { output = try input.compressStream(with: compressor, flush: flush) } catch {
                throw DataError(file: path, .invalid("gzip: \(error)"))
            }
            let written = output.withUnsafeReadableBytes { fwrite($0.baseAddress, 1, $0.count, file) }
            guard written == output.readableBytes else {
                throw DataError(file: path, .unreadable("write failed: \(String(cString: strerror(errno)))"))
            }
        }

        /// Closes the file without completing it (after a failure).
        func abandon() { fclose(file) }
    }

    /// The decompressed contents of the gzip file at `path`.
    static func read(_ path: String) throws(DataError) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DataError(file: path, .fileNotFound)
        }
        var input = NIOCore.ByteBuffer(bytes: data)
        do {
            var output = try input.decompress(with: .gzip())
            return output.readBytes(length: output.readableBytes) ?? []
        } catch {
            throw DataError(file: path, .invalid("not a valid gzip file (\(error))"))
        }
    }
}

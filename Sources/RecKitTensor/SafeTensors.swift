import Foundation

/// A problem reading or writing a safetensors file.
public struct SafeTensorsError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { "safetensors: \(message)" }
}

/// The safetensors format (Hugging Face): an 8-byte little-endian header length, a JSON header
/// `{name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {…}}`, then the raw
/// little-endian data. RecKit stores `F32` tensors and `I32`/`I64` index arrays.
public enum SafeTensors {
    /// One stored array.
    public enum Entry: Sendable, Equatable {
        case float32(Tensor)
        case int32([Int32], shape: [Int])
        case int64([Int64], shape: [Int])

        var dtype: String {
            switch self {
            case .float32: return "F32"
            case .int32: return "I32"
            case .int64: return "I64"
            }
        }

        var shape: [Int] {
            switch self {
            case .float32(let tensor): return tensor.shape
            case .int32(_, let shape), .int64(_, let shape): return shape
            }
        }

        func appendBytes(to data: inout Data) {
            switch self {
            case .float32(let tensor): tensor.scalars.withUnsafeBytes { data.append(contentsOf: $0) }
            case .int32(let values, _): values.withUnsafeBytes { data.append(contentsOf: $0) }
            case .int64(let values, _): values.withUnsafeBytes { data.append(contentsOf: $0) }
            }
        }
    }

    /// The file's bytes for `entries` (names sorted, so equal contents give equal bytes).
    public static func encode(_ entries: [String: Entry], metadata: [String: String] = [:]) -> Data {
        precondition(Int(littleEndian: 1) == 1, "safetensors: big-endian hosts are not supported")
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var body = Data()
        for name in entries.keys.sorted() {
            let entry = entries[name]!
            let begin = body.count
            entry.appendBytes(to: &body)
            header[name] =
                ["dtype": entry.dtype, "shape": entry.shape, "data_offsets": [begin, body.count]] as [String: Any]
        }
        var json = (try? JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])) ?? Data("{}".utf8)
        while json.count % 8 != 0 { json.append(0x20) } // pad with spaces, as the reference does
        var file = Data()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { file.append(contentsOf: $0) }
        file.append(json)
        file.append(body)
        return file
    }

    /// Parses a safetensors file.
    /// - Throws: `SafeTensorsError` for a truncated file, a bad header, an unknown dtype or offsets
    ///   that do not match the shape.
    public static func decode(_ data: Data) throws(SafeTensorsError) -> (
        entries: [String: Entry], metadata: [String: String]
    ) {
        guard data.count >= 8 else { throw SafeTensorsError("the file is shorter than its 8-byte header length") }
        let headerLength = data.prefix(8).enumerated().reduce(UInt64(0)) {
            $0 | UInt64($1.element) << (8 * UInt64($1.offset))
        }
        guard headerLength <= UInt64(data.count - 8) else {
            throw SafeTensorsError("the header length \(headerLength) exceeds the file")
        }
        let headerEnd = 8 + Int(headerLength)
        guard let header = try? JSONSerialization.jsonObject(with: data.subdata(in: 8..<headerEnd)) as? [String: Any]
        else {
            throw SafeTensorsError("the header is not a JSON object")
        }
        let body = data.subdata(in: headerEnd..<data.count)
        var entries: [String: Entry] = [:]
        var metadata: [String: String] = [:]
        for (name, value) in header {
            if name == "__metadata__" {
                metadata = (value as? [String: String]) ?? [:]
                continue
            }
            guard let info = value as? [String: Any], let dtype = info["dtype"] as? String,
                let shape = info["shape"] as? [Int],
                let offsets = info["data_offsets"] as? [Int], offsets.count == 2
            else { throw SafeTensorsError("tensor '\(name)' has a malformed header entry") }
            let (begin, end) = (offsets[0], offsets[1])
            guard begin >= 0, begin <= end, end <= body.count, shape.allSatisfy({ $0 >= 0 }) else {
                throw SafeTensorsError(
                    "tensor '\(name)' points outside the data (\(begin)..<\(end) of \(body.count) bytes)")
            }
            // Element count, overflow-checked and bounded by the data's size before anything is allocated.
            var count = 1
            for dimension in shape {
                let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
                guard !overflow, product <= body.count else {
                    throw SafeTensorsError(
                        "tensor '\(name)' has shape \(shape), larger than the file's \(body.count) data bytes")
                }
                count = product
            }
            let bytes = body.subdata(in: begin..<end)
            switch dtype {
            case "F32":
                guard bytes.count == count * 4 else {
                    throw SafeTensorsError("tensor '\(name)': \(bytes.count) bytes for shape \(shape)")
                }
                let values = bytes.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
                entries[name] = .float32(Tensor(shape: shape, scalars: values))
            case "I32":
                guard bytes.count == count * 4 else {
                    throw SafeTensorsError("tensor '\(name)': \(bytes.count) bytes for shape \(shape)")
                }
                entries[name] = .int32(bytes.withUnsafeBytes { Array($0.bindMemory(to: Int32.self)) }, shape: shape)
            case "I64":
                guard bytes.count == count * 8 else {
                    throw SafeTensorsError("tensor '\(name)': \(bytes.count) bytes for shape \(shape)")
                }
                entries[name] = .int64(bytes.withUnsafeBytes { Array($0.bindMemory(to: Int64.self)) }, shape: shape)
            default:
                throw SafeTensorsError("tensor '\(name)' has dtype \(dtype); RecKit reads F32, I32 and I64")
            }
        }
        return (entries, metadata)
    }
}

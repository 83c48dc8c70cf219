/// JSON text written straight into bytes, for the responses the server sends most (a recommendation
/// list): Foundation's JSONEncoder, reflecting over `Encodable`, was an eighth of the server's CPU
/// time under load. Strings are escaped as RFC 8259 says; numbers that JSON cannot hold (NaN, ±∞)
/// are written as 0 and ±3.4028235e38.
struct JSONWriter {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int = 1024) { bytes.reserveCapacity(capacity) }

    mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    mutating func string(_ value: String) {
        bytes.append(UInt8(ascii: "\""))
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""): raw("\\\"")
            case UInt8(ascii: "\\"): raw("\\\\")
            case UInt8(ascii: "\n"): raw("\\n")
            case UInt8(ascii: "\r"): raw("\\r")
            case UInt8(ascii: "\t"): raw("\\t")
            case 0..<0x20:
                raw("\\u00")
                bytes.append(Self.hex[Int(byte >> 4)])
                bytes.append(Self.hex[Int(byte & 0xF)])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    mutating func number(_ value: Float) {
        let finite = value.isNaN ? 0 : max(-Float.greatestFiniteMagnitude, min(Float.greatestFiniteMagnitude, value))
        bytes.append(contentsOf: "\(finite)".utf8)
    }

    mutating func number(_ value: Int) { bytes.append(contentsOf: String(value).utf8) }

    /// `"key":`
    mutating func key(_ key: StaticString) {
        bytes.append(UInt8(ascii: "\""))
        raw(key)
        raw("\":")
    }

    mutating func strings(_ values: [String]) {
        bytes.append(UInt8(ascii: "["))
        for (index, value) in values.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            string(value)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    static let hex = Array("0123456789abcdef".utf8)
}

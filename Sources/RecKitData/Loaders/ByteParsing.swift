import Foundation

/// Number and time parsing straight from bytes, without building `String`s on the hot path.
enum ByteParsing {
    static let zero = UInt8(ascii: "0"), nine = UInt8(ascii: "9"), minus = UInt8(ascii: "-"), plus = UInt8(ascii: "+")
    static let dot = UInt8(ascii: "."), space = UInt8(ascii: " ")

    /// Trims ASCII spaces at both ends.
    @inline(__always)
    static func trimmed(_ bytes: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        var start = 0
        var end = bytes.count
        while start < end && bytes[start] == space { start += 1 }
        while end > start && bytes[end - 1] == space { end -= 1 }
        return UnsafeBufferPointer(rebasing: bytes[start..<end])
    }

    /// A canonical decimal `Int32` (optional '-', no leading zeros, no '+'), else nil.
    @inline(__always)
    static func canonicalInt32(_ bytes: UnsafeBufferPointer<UInt8>) -> Int32? {
        let count = bytes.count
        guard count > 0, count <= 11 else { return nil }
        var index = 0
        var negative = false
        if bytes[0] == minus {
            negative = true
            index = 1
            guard count > 1 else { return nil }
        }
        if bytes[index] == zero && count - index > 1 { return nil } // leading zero
        if negative && bytes[index] == zero { return nil } // "-0"
        var value: Int64 = 0
        while index < count {
            let digit = bytes[index] &- zero
            guard digit <= 9 else { return nil }
            value = value * 10 + Int64(digit)
            index += 1
        }
        if negative { value = -value }
        guard value >= Int64(Int32.min) && value <= Int64(Int32.max) else { return nil }
        return Int32(value)
    }

    /// A decimal `Int64` (optional sign, leading zeros allowed), else nil.
    @inline(__always)
    static func int64(_ bytes: UnsafeBufferPointer<UInt8>) -> Int64? {
        let bytes = trimmed(bytes)
        var index = 0
        var negative = false
        guard bytes.count > 0 else { return nil }
        if bytes[0] == minus || bytes[0] == plus {
            negative = bytes[0] == minus
            index = 1
        }
        guard index < bytes.count, bytes.count - index <= 19 else { return nil }
        // Accumulated as a negative number, whose range reaches Int64.min; every step is checked, so a
        // 19-digit value past Int64.max is "not a number" rather than an arithmetic-overflow crash.
        var value: Int64 = 0
        while index < bytes.count {
            let digit = bytes[index] &- zero
            guard digit <= 9 else { return nil }
            let (shifted, overflowMultiply) = value.multipliedReportingOverflow(by: 10)
            let (next, overflowSubtract) = shifted.subtractingReportingOverflow(Int64(digit))
            guard !overflowMultiply, !overflowSubtract else { return nil }
            value = next
            index += 1
        }
        if negative { return value }
        return value == .min ? nil : -value
    }

    static let powersOfTen: [Double] = (0...22).map { power in
        var value = 1.0
        for _ in 0..<power { value *= 10 }
        return value
    }

    /// 10^n for n in 0...22, exactly (no table, so no reference counting in hot loops).
    @inline(__always)
    static func powerOfTen(_ n: Int) -> Double {
        switch n {
        case 0: return 1
        case 1: return 10
        case 2: return 100
        case 3: return 1e3
        case 4: return 1e4
        case 5: return 1e5
        case 6: return 1e6
        case 7: return 1e7
        case 8: return 1e8
        default: return powersOfTen[n]
        }
    }

    /// A finite decimal number; plain `[-+]digits[.digits]` is parsed exactly here, anything else
    /// (exponents, long mantissas) by `strtod`. Rejects `nan`, `inf`, `4,5` and empty text.
    @inline(__always)
    static func double(_ bytes: UnsafeBufferPointer<UInt8>) -> Double? {
        let bytes = trimmed(bytes)
        let count = bytes.count
        guard count > 0 else { return nil }
        var index = 0
        var negative = false
        if bytes[0] == minus || bytes[0] == plus {
            negative = bytes[0] == minus
            index = 1
        }
        var mantissa: UInt64 = 0
        var digits = 0
        var fractionDigits = 0
        var seenDot = false
        while index < count {
            let byte = bytes[index]
            let digit = byte &- zero
            if digit <= 9 {
                if digits < 18 {
                    mantissa = mantissa * 10 + UInt64(digit)
                    digits += 1
                    if seenDot { fractionDigits += 1 }
                } else {
                    return slowDouble(bytes)
                }
            } else if byte == dot && !seenDot {
                seenDot = true
            } else {
                return slowDouble(bytes)
            }
            index += 1
        }
        guard digits > 0 else { return nil }
        // Exact only while the mantissa fits a Double's 53 bits; longer ones go to strtod.
        guard mantissa < (1 << 53) else { return slowDouble(bytes) }
        let value = Double(mantissa) / powerOfTen(fractionDigits)
        return negative ? -value : value
    }

    static func slowDouble(_ bytes: UnsafeBufferPointer<UInt8>) -> Double? {
        guard bytes.count < 64 else { return nil }
        // Only digits, sign, dot and exponent letters; strtod would also accept "nan", "inf", hex.
        for byte in bytes {
            switch byte {
            case zero...nine, minus, plus, dot, UInt8(ascii: "e"), UInt8(ascii: "E"): continue
            default: return nil
            }
        }
        var text = [CChar](repeating: 0, count: bytes.count + 1)
        for (index, byte) in bytes.enumerated() { text[index] = CChar(bitPattern: byte) }
        var end: UnsafeMutablePointer<CChar>?
        let value = text.withUnsafeMutableBufferPointer { buffer -> Double in
            let result = strtod(buffer.baseAddress!, &end)
            return end == buffer.baseAddress! + bytes.count ? result : .nan
        }
        return value.isFinite ? value : nil
    }

    /// A time as Unix seconds: an integer, a decimal (the fraction is dropped, e.g. `1396437466.94`),
    /// or ISO 8601 `YYYY-MM-DD[(T| )hh:mm[:ss[.fff]]][Z|±hh:mm]`.
    static func unixSeconds(_ bytes: UnsafeBufferPointer<UInt8>) -> Int64? {
        let bytes = trimmed(bytes)
        if let value = int64(bytes) { return value }
        if bytes.count >= 10 && bytes[4] == minus && bytes[7] == minus { return iso8601(bytes) }
        if let value = double(bytes), abs(value) < 9e15 { return Int64(value.rounded(.down)) }
        return nil
    }

    static func iso8601(_ bytes: UnsafeBufferPointer<UInt8>) -> Int64? {
        func number(_ range: Range<Int>) -> Int? {
            guard range.upperBound <= bytes.count else { return nil }
            var value = 0
            for index in range {
                let digit = bytes[index] &- zero
                guard digit <= 9 else { return nil }
                value = value * 10 + Int(digit)
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
            (1...12).contains(month), (1...31).contains(day)
        else { return nil }
        var hour = 0
        var minute = 0
        var second = 0
        var index = 10
        if bytes.count > 10 {
            guard bytes[10] == UInt8(ascii: "T") || bytes[10] == space, let h = number(11..<13), bytes.count >= 16,
                bytes[13] == UInt8(ascii: ":"), let m = number(14..<16)
            else { return nil }
            hour = h
            minute = m
            index = 16
            if index < bytes.count && bytes[index] == UInt8(ascii: ":") {
                guard let s = number(17..<19) else { return nil }
                second = s
                index = 19
                if index < bytes.count && bytes[index] == dot {
                    index += 1
                    while index < bytes.count && bytes[index] &- zero <= 9 { index += 1 }
                }
            }
        }
        var offsetSeconds = 0
        if index < bytes.count {
            let sign = bytes[index]
            if sign == UInt8(ascii: "Z") && index == bytes.count - 1 {
                offsetSeconds = 0
            } else if sign == plus || sign == minus, let h = number(index + 1..<index + 3) {
                var m = 0
                if index + 3 < bytes.count {
                    let minuteStart = bytes[index + 3] == UInt8(ascii: ":") ? index + 4 : index + 3
                    guard let value = number(minuteStart..<minuteStart + 2), minuteStart + 2 == bytes.count else {
                        return nil
                    }
                    m = value
                }
                offsetSeconds = (h * 3600 + m * 60) * (sign == minus ? -1 : 1)
            } else {
                return nil
            }
        }
        guard hour < 24, minute < 60, second < 61 else { return nil }
        return daysFromCivil(year: year, month: month, day: day) * 86_400 + Int64(hour * 3600 + minute * 60 + second)
            - Int64(offsetSeconds)
    }

    /// Days since 1970-01-01 in the proleptic Gregorian calendar (H. Hinnant's algorithm).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let m = Int64(month)
        let dayOfYear = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + Int64(day) - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// Decodes `bytes` as text in `encoding`; nil for invalid UTF-8.
    static func string(_ bytes: UnsafeBufferPointer<UInt8>, encoding: TextEncoding) -> String? {
        switch encoding {
        case .utf8:
            var isASCII = true
            for byte in bytes where byte >= 0x80 {
                isASCII = false
                break
            }
            if isASCII { return String(decoding: bytes, as: UTF8.self) }
            return String(validating: bytes, as: UTF8.self)
        case .latin1:
            return String(String.UnicodeScalarView(bytes.map { Unicode.Scalar($0) }))
        }
    }

    /// Whether `bytes` is valid UTF-8 (ASCII is checked without decoding).
    @inline(__always)
    static func isValidUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        for byte in bytes where byte >= 0x80 { return String(validating: bytes, as: UTF8.self) != nil }
        return true
    }

    /// Shows raw bytes in an error message (invalid UTF-8 as Latin-1, at most 60 characters).
    static func display(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        let text = string(bytes, encoding: .utf8) ?? string(bytes, encoding: .latin1) ?? ""
        return text.count > 60 ? String(text.prefix(57)) + "..." : text
    }
}

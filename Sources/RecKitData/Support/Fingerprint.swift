import Crypto
import Foundation

/// SHA-256 digests as lowercase hex, through swift-crypto (BoringSSL's SHA-256 on Linux, CryptoKit
/// on Apple platforms): file checksums in model directories and data fingerprints.
public enum Fingerprint {
    /// The SHA-256 of `data` as 64 hex digits.
    public static func hex(_ data: Data) -> String { hexString(SHA256.hash(data: data)) }

    /// An incremental SHA-256.
    public struct Hasher {
        var hasher = SHA256()
        public init() {}
        public mutating func update(_ bytes: UnsafeRawBufferPointer) { hasher.update(bufferPointer: bytes) }
        public mutating func update(_ data: Data) { hasher.update(data: data) }
        public func finalizeHex() -> String { Fingerprint.hexString(hasher.finalize()) }
    }

    static func hexString(_ digest: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(64)
        for byte in digest {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}

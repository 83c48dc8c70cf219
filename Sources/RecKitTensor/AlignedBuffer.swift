import Foundation

/// A fixed-size, 64-byte aligned, copy-on-write array of `Float`.
///
/// Cache-line alignment keeps SIMD loads in hot kernels on one line and stops two threads that
/// write neighbouring rows from sharing a line at the ends. Elements start at zero.
public struct AlignedFloatBuffer: Sendable, Equatable {
    /// The alignment in bytes of the first element.
    public static let alignment = 64

    final class Storage: @unchecked Sendable { // mutated only through a uniquely referenced copy
        let count: Int
        let pointer: UnsafeMutablePointer<Float>
        init(count: Int) {
            self.count = count
            let bytes = max(count, 1) * MemoryLayout<Float>.stride
            let raw = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: AlignedFloatBuffer.alignment)
            raw.initializeMemory(as: Float.self, repeating: 0, count: max(count, 1))
            pointer = raw.assumingMemoryBound(to: Float.self)
        }
        deinit { UnsafeMutableRawPointer(pointer).deallocate() }
    }

    private var storage: Storage

    /// - Parameter count: the number of elements, all zero.
    public init(count: Int) {
        precondition(count >= 0, "AlignedFloatBuffer: negative count \(count)")
        storage = Storage(count: count)
    }

    /// A buffer holding a copy of `values`.
    public init(_ values: [Float]) {
        self.init(count: values.count)
        values.withUnsafeBufferPointer { source in
            if let base = source.baseAddress { storage.pointer.update(from: base, count: values.count) }
        }
    }

    public var count: Int { storage.count }

    public subscript(index: Int) -> Float {
        get {
            precondition(index >= 0 && index < count, "index \(index) out of 0..<\(count)")
            return storage.pointer[index]
        }
        set {
            precondition(index >= 0 && index < count, "index \(index) out of 0..<\(count)")
            makeUnique()
            storage.pointer[index] = newValue
        }
    }

    /// Calls `body` with the elements; the pointer must not escape.
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: storage.pointer, count: count))
    }

    /// Calls `body` with mutable elements, copying first if the storage is shared.
    public mutating func withUnsafeMutableBufferPointer<R>(
        _ body: (UnsafeMutableBufferPointer<Float>) throws -> R
    ) rethrows -> R {
        makeUnique()
        return try body(UnsafeMutableBufferPointer(start: storage.pointer, count: count))
    }

    /// The elements as an ordinary array.
    public var array: [Float] { withUnsafeBufferPointer { Array($0) } }

    private mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&storage) {
            let copy = Storage(count: count)
            copy.pointer.update(from: storage.pointer, count: count)
            storage = copy
        }
    }

    public static func == (lhs: AlignedFloatBuffer, rhs: AlignedFloatBuffer) -> Bool {
        lhs.count == rhs.count
            && lhs.withUnsafeBufferPointer { a in
                rhs.withUnsafeBufferPointer { b in
                    a.elementsEqual(b)
                }
            }
    }
}

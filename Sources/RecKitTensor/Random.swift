import Foundation

/// SplitMix64 (Steele, Lea and Flood 2014): a tiny, fast, seedable generator.
///
/// Used to seed other generators and wherever a stream of 64-bit values is needed. The same seed
/// gives the same sequence on every platform.
public struct SplitMix64: RandomNumberGenerator, Sendable, Equatable {
    @usableFromInline var state: UInt64

    /// - Parameter seed: any value; 0 is fine.
    public init(seed: UInt64) { state = seed }

    @inlinable
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Xoshiro256** (Blackman and Vigna 2018): the generator for long streams, with `jump()` for
/// non-overlapping parallel streams.
public struct Xoshiro256: RandomNumberGenerator, Sendable, Equatable {
    @usableFromInline var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    /// Seeds the four state words from SplitMix64, as the authors recommend.
    public init(seed: UInt64) {
        var seeder = SplitMix64(seed: seed)
        s0 = seeder.next()
        s1 = seeder.next()
        s2 = seeder.next()
        s3 = seeder.next()
    }

    @inlinable
    public mutating func next() -> UInt64 {
        let result = rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = rotl(s3, 45)
        return result
    }

    @inlinable func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// Advances the state by 2^128 steps: call it n times to get the n-th independent stream.
    public mutating func jump() {
        let table: [UInt64] = [
            0x180E_C6D3_3CFD_0ABA, 0xD5A6_1266_F0C9_392C, 0xA958_6E8B_0A93_0D63, 0x39AB_DC45_29B1_661C,
        ]
        var t0: UInt64 = 0
        var t1: UInt64 = 0
        var t2: UInt64 = 0
        var t3: UInt64 = 0
        for word in table {
            for bit in 0..<64 {
                if word & (UInt64(1) << UInt64(bit)) != 0 {
                    t0 ^= s0
                    t1 ^= s1
                    t2 ^= s2
                    t3 ^= s3
                }
                _ = next()
            }
        }
        s0 = t0
        s1 = t1
        s2 = t2
        s3 = t3
    }

    /// `count` independent generators for parallel work, each `jump()`ed from the previous one.
    public static func streams(seed: UInt64, count: Int) -> [Xoshiro256] {
        var generator = Xoshiro256(seed: seed)
        var result: [Xoshiro256] = []
        result.reserveCapacity(count)
        for _ in 0..<count {
            result.append(generator)
            generator.jump()
        }
        return result
    }
}

extension RandomNumberGenerator {
    /// A uniform `Float` in [0, 1) from the top 24 bits: exact and identical on every platform.
    @inlinable
    public mutating func nextUnitFloat() -> Float {
        Float(next() >> 40) * (1.0 / 16_777_216.0)
    }

    /// A uniform `Double` in [0, 1) from the top 53 bits.
    @inlinable
    public mutating func nextUnitDouble() -> Double {
        Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
    }

    /// A standard normal `Float` by Box–Muller from two uniform draws (the first mapped into (0, 1]).
    /// Factor initialisations and noise all draw through this one helper.
    @inlinable
    public mutating func nextStandardNormal() -> Float {
        let u1 = 1 - nextUnitDouble()
        let u2 = nextUnitDouble()
        return Float((-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Double.pi * u2))
    }

    /// `count` standard normal `Float`s by Marsaglia's polar method: pairs from uniform points of
    /// the unit disc, one logarithm per pair and no trigonometry — several times faster than
    /// `nextStandardNormal` for bulk noise (a reparameterised sample per batch), a different sequence.
    @inlinable
    public mutating func standardNormals(count: Int) -> [Float] {
        var values = [Float](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let u = nextUnitFloat() * 2 - 1
            let v = nextUnitFloat() * 2 - 1
            let s = u * u + v * v
            guard s < 1 && s > 0 else { continue }
            let factor = (-2 * Foundation.log(s) / s).squareRoot()
            values[filled] = u * factor
            if filled + 1 < count { values[filled + 1] = v * factor }
            filled += 2
        }
        return values
    }

    /// Shuffles `array` in place (Fisher–Yates from the back, `nextIndex(below:)` draws): the same
    /// seed gives the same order on every platform and Swift version, unlike `shuffle(using:)`.
    @inlinable
    public mutating func shuffle<Element>(_ array: inout [Element]) {
        for index in stride(from: array.count - 1, to: 0, by: -1) { array.swapAt(index, nextIndex(below: index + 1)) }
    }

    /// A uniform integer in `0..<bound` by Lemire's multiply-shift (bias below 2^-32 for any bound
    /// used here); faster than `Int.random(in:using:)` in hot samplers.
    @inlinable
    public mutating func nextIndex(below bound: Int) -> Int {
        precondition(bound > 0, "nextIndex(below:) needs a positive bound")
        return Int(((next() >> 32) &* UInt64(bound)) >> 32)
    }
}

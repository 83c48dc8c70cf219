/// `log` and `exp` written with `+ - * /` only, so they give bit-identical results on every platform.
///
/// The C library's `log` and `exp` may differ in the last bit between Linux and macOS; generators
/// that promise byte-identical output (the synthetic data sets) use these instead.
/// Accuracy: about 1e-15 relative over the normal `Double` range.
public enum PortableMath {
    /// Natural logarithm of a positive finite `x`.
    public static func log(_ x: Double) -> Double {
        precondition(x > 0 && x.isFinite, "PortableMath.log needs a positive finite value, got \(x)")
        // x = m · 2^e with m in [sqrt(1/2), sqrt(2)); log(m) = 2 atanh(s), s = (m - 1)/(m + 1).
        var e = Double(x.exponent)
        var m = x.significand // [1, 2)
        if m > 1.4142135623730951 {
            m *= 0.5
            e += 1
        }
        let s = (m - 1) / (m + 1)
        let s2 = s * s
        var term = s
        var sum = 0.0
        var k = 1.0
        while k < 60 { // |s| < 0.1716: 1e-17 after ~20 odd terms
            sum += term / k
            term *= s2
            k += 2
            if abs(term) < 1e-20 { break }
        }
        return 2 * sum + e * 0.6931471805599453
    }

    /// Exponential of a finite `x`; 0 below -745 and +infinity above 709.
    public static func exp(_ x: Double) -> Double {
        if x < -745 { return 0 }
        if x > 709.7 { return .infinity }
        // x = k·ln2 + r, |r| <= ln2/2; exp(r) by Taylor series, then scale by 2^k exactly.
        // fdlibm's split of ln 2: the high part has 32 trailing zero bits, so k·high is exact.
        let k = (x / 0.6931471805599453).rounded()
        let r = (x - k * 6.93147180369123816490e-01) - k * 1.90821492927058770002e-10
        var term = 1.0
        var sum = 1.0
        var n = 1.0
        while n < 30 {
            term *= r / n
            sum += term
            if abs(term) < 1e-18 { break }
            n += 1
        }
        return Double(sign: .plus, exponent: Int(k), significand: sum)
    }
}

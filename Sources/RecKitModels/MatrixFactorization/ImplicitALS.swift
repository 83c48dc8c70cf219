import Foundation
import RecKitData
import RecKitNN
import RecKitTensor

/// Implicit-feedback matrix factorisation by alternating least squares (Hu, Koren and Volinsky,
/// "Collaborative Filtering for Implicit Feedback Datasets", ICDM 2008), with the conjugate-gradient
/// solver of Takács, Pilászy and Tikk (RecSys 2011) or exact Cholesky solves.
///
/// Minimises Σ_u,i c_ui (p_ui − x_u·y_i)² + λ(Σ‖x_u‖² + Σ‖y_i‖²) with p_ui = 1 for observed pairs
/// (else 0) and confidence c_ui = 1 + α·r_ui (or 1 + α·log(1 + r_ui/ε)) for observed pairs, 1 otherwise;
/// with `regularization_scaling=count` each row's λ is multiplied by its interaction count (Spark's ALS),
/// with `frequency` by (n + N/α)^ν for a row with n interactions among N columns: the frequency-scaled
/// regularisation λ(|I_u| + α₀|I|)^ν of Rendle et al. 2022 ("Revisiting the Performance of iALS on Item
/// Recommendation Benchmarks"), whose unobserved weight α₀ is 1/α in this confidence's units.
/// Each half-sweep forms YᵀY once; users (then items) are solved in parallel chunks, each row
/// independently, so threads never change the result.
public struct ImplicitALS: FactorRecommender {
    public static let name = "ials"
    public static let summary = "implicit ALS (Hu, Koren, Volinsky 2008), confidence 1 + α·r, CG or Cholesky"

    public struct Config: ModelConfig {
        public var factorCount = 64
        public var regularization: Float = 0.05
        /// α in the confidence 1 + α·r.
        public var alpha: Float = 1
        public var iterationCount = 15
        public var solver = Solver.conjugateGradient
        /// Conjugate-gradient steps per row and half-sweep (warm-started from the previous factors).
        public var cgSteps = 3
        public var confidence = ConfidenceScaling.linear
        /// ε of the log confidence 1 + α·log(1 + r/ε).
        public var logEpsilon: Float = 1
        public var regularizationScaling = RegularizationScaling.constant
        /// ν of the frequency scaling.
        public var frequencyExponent: Float = 1
        public var seed: UInt64 = 0

        public init() {}

        public func validate(model: String) throws(ConfigError) {
            if regularizationScaling == .frequency && alpha <= 0 {
                throw ConfigError(model: model, key: "alpha", "regularization_scaling=frequency needs α > 0 (N/α)")
            }
        }

        enum CodingKeys: String, CodingKey {
            case factorCount = "factors", regularization, alpha, iterationCount = "iterations", solver
            case cgSteps = "cg_steps", confidence, logEpsilon = "epsilon"
            case regularizationScaling = "regularization_scaling", frequencyExponent = "frequency_exponent", seed
        }

        public static let settings: [ModelSetting] = [
            .factors(),
            .regularization("L2 weight λ"),
            .alpha,
            .iterations(),
            .choice("solver", Solver.self, "conjugate gradient or exact Cholesky solves"),
            .integer("cg_steps", .atLeast(1), "conjugate-gradient steps per row and half-sweep"),
            .choice(
                "confidence", ConfidenceScaling.self,
                "linear (1 + α·r), log (1 + α·log(1 + r/ε)) or implicit (α·r, implicit's convention)"),
            .number("epsilon", .above(0), "ε of the log confidence"),
            .choice(
                "regularization_scaling", RegularizationScaling.self,
                "constant (λ for every row), count (λ·n for a row with n interactions: ALS-WR, Spark's ALS) or "
                    + "frequency (λ·(n + N/α)^ν over N columns: Rendle et al. 2022)"),
            .number("frequency_exponent", .between(0, 2), "ν of regularization_scaling=frequency"),
            .seed,
        ]
    }

    public enum Solver: String, Codable, Sendable, CaseIterable {
        case conjugateGradient = "cg"
        case cholesky
    }

    public enum ConfidenceScaling: String, Codable, Sendable, CaseIterable {
        /// c = 1 + α·r (the paper's).
        case linear
        /// c = 1 + α·log(1 + r/ε).
        case log
        /// c = α·r, implicit's convention (its `alpha` scales the matrix it takes as confidence):
        /// on binary data, implicit's α equals our linear α + 1.
        case implicit
    }

    /// How λ depends on a row's interaction count.
    public enum RegularizationScaling: String, Codable, Sendable, CaseIterable {
        /// λ‖x_u‖² for every row (Hu, Koren and Volinsky; implicit).
        case constant
        /// λ·n_u‖x_u‖² with n_u the row's interactions (at least 1): the weighted-λ of ALS-WR (Zhou et al.
        /// 2008), which Spark MLlib's ALS uses — models imported from Spark fold in new users this way.
        case count
        /// λ·(n_u + N/α)^ν with N the number of columns (items for a user): the frequency-scaled λ of
        /// Rendle et al. 2022, the unobserved pairs' weight α₀ = 1/α; ν = 0 is `constant`.
        case frequency
    }

    public let config: Config
    public let factors: FactorModel

    /// Trains on `train` (values: weight, else rating, else 1) on all cores unless the context says
    /// otherwise; threads never change the result. Reports each iteration.
    public init(fitting train: Interactions, config: Config, context: TrainingContext) throws {
        try Self.check(config)
        try train.checkNonNegativeValues(for: Self.name)
        let threadCount = context.threads(default: Parallel.defaultThreadCount)
        let k = config.factorCount
        var generator = SplitMix64(seed: config.seed)
        // Small random starts, as implicit does (uniform in [0, 0.01)).
        var users = (0..<(train.userCount * k)).map { _ in generator.nextUnitFloat() * 0.01 }
        var items = (0..<(train.itemCount * k)).map { _ in generator.nextUnitFloat() * 0.01 }
        let byUser = InteractionMatrix.byUser(train)
        let byItem = InteractionMatrix.byItem(train)
        let userConfidence = ImplicitALS.confidences(byUser.values, config)
        let itemConfidence = ImplicitALS.confidences(byItem.values, config)
        for iteration in 0..<config.iterationCount {
            ImplicitALS.halfSweep(
                solving: &users, fixed: items, matrix: byUser, confidence: userConfidence, config: config,
                threadCount: threadCount)
            ImplicitALS.halfSweep(
                solving: &items, fixed: users, matrix: byItem, confidence: itemConfidence, config: config,
                threadCount: threadCount)
            try context.report(TrainingUpdate(step: iteration + 1, total: config.iterationCount))
        }
        self.init(config: config, factors: FactorModel(name: Self.name, users: users, items: items, width: k))
    }

    /// YᵀY of the item factors, kept for fold-in (computing it per request would read the whole item
    /// table, k² multiply-adds per item, for each new user).
    let itemGram: [Float]

    public init(config: Config, factors: FactorModel) {
        self.config = config
        self.factors = factors
        itemGram = factors.itemFactors.gram().scalars
    }

    public static func factorWidth(_ config: Config) -> Int { config.factorCount }

    /// Fold-in: one regularised least-squares solve for a user with this history (exact).
    public func scores(forHistory history: [Int32]) -> [Float] {
        Tensor(shape: [1, config.factorCount], scalars: foldIn(history))
            .matmul(factors.itemFactors, transposingOther: true).scalars
    }

    /// Fold-in for several histories: one solve each, then one matrix product for all (each row is
    /// `scores(forHistory:)`'s, up to the order BLAS sums a product of several rows in).
    public func scores(forHistories histories: [[Int32]]) -> Tensor {
        Tensor(shape: [histories.count, config.factorCount], scalars: histories.flatMap(foldIn))
            .matmul(factors.itemFactors, transposingOther: true)
    }

    /// The user vector of the exact solve for `history` (zero for an empty one).
    func foldIn(_ history: [Int32]) -> [Float] {
        let k = config.factorCount
        let known = Array(Set(history.filter { $0 >= 0 && Int($0) < itemCount })).sorted()
        var user = [Float](repeating: 0, count: k)
        guard
            let matrix = try? InteractionMatrix(
                rowCount: 1, columnCount: itemCount, rowOffsets: [0, known.count], columnIndices: known,
                values: [Float](repeating: 1, count: known.count))
        else { return user }
        var exact = config
        exact.solver = .cholesky
        ImplicitALS.halfSweep(
            solving: &user, fixed: factors.itemFactors.scalars, matrix: matrix,
            confidence: ImplicitALS.confidences(matrix.values, config), config: exact, threadCount: 1,
            fixedGram: itemGram)
        return user
    }

    /// λ for a row with `count` interactions among `columns`: λ, λ·max(1, count) under
    /// `regularization_scaling=count`, λ·(count + columns/α)^ν under `frequency`.
    static func rowRegularization(count: Int, columns: Int, _ config: Config) -> Float {
        switch config.regularizationScaling {
        case .constant: return config.regularization
        case .count: return config.regularization * Float(max(1, count))
        case .frequency:
            let base = Double(count) + Double(columns) / Double(config.alpha)
            return config.regularization * Float(pow(base, Double(config.frequencyExponent)))
        }
    }

    /// c_ui − 1 for each stored value (the extra confidence of an observed pair).
    static func confidences(_ values: [Float], _ config: Config) -> [Float] {
        switch config.confidence {
        case .linear: return values.map { config.alpha * $0 }
        case .log: return values.map { config.alpha * Float(Foundation.log(Double(1 + $0 / config.logEpsilon))) }
        case .implicit: return values.map { config.alpha * $0 - 1 }
        }
    }

    /// Solves every row of `solving` against the fixed factors.
    static func halfSweep(
        solving target: inout [Float], fixed: [Float], matrix: InteractionMatrix, confidence: [Float], config: Config,
        threadCount: Int, fixedGram: [Float]? = nil
    ) {
        let k = config.factorCount
        let fixedCount = fixed.count / k
        // YᵀY + λI, once per half-sweep (or given: fold-in keeps the item table's).
        var gram = fixedGram ?? Tensor(shape: [fixedCount, k], scalars: fixed).gram().scalars
        let scaled = config.regularizationScaling != .constant
        if !scaled { for f in 0..<k { gram[f * k + f] += config.regularization } }
        let rows = matrix.rowCount
        let chunks = Parallel.chunks(count: rows, chunkCount: max(1, min(rows, threadCount * 16)))
        let gramMatrix = gram
        // Exact solves call sgemm per long row, from each worker: BLAS stays on one thread meanwhile.
        let serialBLAS = config.solver == .cholesky && threadCount > 1
        func sweep() {
            target.withUnsafeMutableBufferPointer { targetBuffer in
                fixed.withUnsafeBufferPointer { fixedBuffer in
                    let shared = ALSBuffers(target: targetBuffer, fixed: fixedBuffer)
                    Parallel.forEach(chunkCount: chunks.count, threadCount: threadCount) { chunk in
                        var workspace = ALSWorkspace(k: k)
                        for row in chunks[chunk] {
                            let range = matrix.rowOffsets[row]..<matrix.rowOffsets[row + 1]
                            let x = shared.target.baseAddress! + row * k
                            let ridge =
                                scaled
                                ? ImplicitALS.rowRegularization(
                                    count: range.count, columns: matrix.columnCount, config) : 0
                            switch config.solver {
                            case .conjugateGradient:
                                workspace.conjugateGradient(
                                    x: x, gram: gramMatrix, fixed: shared.fixed.baseAddress!,
                                    columns: matrix.columnIndices,
                                    extra: confidence, range: range, steps: config.cgSteps, ridge: ridge)
                            case .cholesky:
                                workspace.cholesky(
                                    x: x, gram: gramMatrix, fixed: shared.fixed.baseAddress!,
                                    columns: matrix.columnIndices,
                                    extra: confidence, range: range, ridge: ridge)
                            }
                        }
                    }
                }
            }
        }
        if serialBLAS { BLASLibrary.singleThreaded(sweep) } else { sweep() }
    }
}

import RecKitNN
import RecKitTensor
import Testing
import _RecKitTestSupport

@testable import RecKitData
@testable import RecKitEval
@testable import RecKitModels

@Suite struct ImplicitALSTests {
    static let data = SyntheticData.generate(preset: .small, seed: 21)
    static let split = try! data.ratings.split(.holdout(testFraction: 0.2, minimumPerUser: 5), seed: 21)

    /// Batched fold-in (the server scores concurrent histories together) gives each history's own
    /// scores, up to BLAS's summation order; an empty history scores 0.
    @Test func batchedFoldInMatchesOneByOne() throws {
        let model = try ImplicitALS(fitting: Self.split.train, config: config())
        let histories: [[Int32]] = [[1, 2, 3], [], [7, 7, 40, 1000], Array(0..<60)]
        let batch = model.scores(forHistories: histories)
        for (row, history) in histories.enumerated() {
            let single = model.scores(forHistory: history)
            let difference = (0..<model.itemCount).map { abs(batch.scalars[row * model.itemCount + $0] - single[$0]) }
            #expect(difference.max()! < 1e-5, "history \(row)")
        }
        #expect(model.scores(forHistory: []).allSatisfy { $0 == 0 })
    }

    func config(_ change: (inout ImplicitALS.Config) -> Void = { _ in }) -> ImplicitALS.Config {
        var config = ImplicitALS.Config()
        config.factorCount = 16
        config.iterationCount = 8
        config.regularization = 1
        change(&config)
        return config
    }

    @Test func learnsBeyondPopularity() throws {
        let split = Self.split
        let evaluator = FullRankingEvaluator(metrics: [.ndcg(10)])
        let als = try evaluator.evaluate(
            ImplicitALS(fitting: split.train, config: config()), train: split.train, test: split.test)
        let popularity = try evaluator.evaluate(Popularity(fitting: split.train), train: split.train, test: split.test)
        #expect(
            als["ndcg@10"]! > popularity["ndcg@10"]! * 1.1,
            "ials \(als["ndcg@10"]!) vs popularity \(popularity["ndcg@10"]!)")
    }

    @Test func seededRunsAreBitIdenticalOnAnyThreadCount() throws {
        let train = SyntheticData.generate(preset: .tiny, seed: 22).ratings.interactions
        let a = try ImplicitALS(
            fitting: train, config: config { $0.iterationCount = 3 }, context: TrainingContext(threadCount: 1))
        let b = try ImplicitALS(
            fitting: train, config: config { $0.iterationCount = 3 }, context: TrainingContext(threadCount: 1))
        let c = try ImplicitALS(
            fitting: train, config: config { $0.iterationCount = 3 }, context: TrainingContext(threadCount: 3))
        #expect(a.factors.userFactors == b.factors.userFactors && a.factors.itemFactors == b.factors.itemFactors)
        #expect(a.factors.userFactors == c.factors.userFactors)
        let other = try ImplicitALS(
            fitting: train,
            config: config {
                $0.iterationCount = 3
                $0.seed = 9
            })
        #expect(other.factors.userFactors != a.factors.userFactors)
    }

    @Test func conjugateGradientConvergesToTheCholeskySolution() {
        // One row against fixed factors: many CG steps from zero reach the exact solve.
        let k = 6
        var generator = SplitMix64(seed: 3)
        let fixed = (0..<(20 * k)).map { _ in generator.nextUnitFloat() - 0.5 }
        let matrix = try! InteractionMatrix(
            rowCount: 1, columnCount: 20, rowOffsets: [0, 4], columnIndices: [1, 5, 9, 13], values: [1, 2, 1, 3])
        var config = ImplicitALS.Config()
        config.factorCount = k
        config.alpha = 2
        config.regularization = 0.1
        let confidence = ImplicitALS.confidences(matrix.values, config)
        var exact = [Float](repeating: 0, count: k)
        var iterative = [Float](repeating: 0, count: k)
        config.solver = .cholesky
        ImplicitALS.halfSweep(
            solving: &exact, fixed: fixed, matrix: matrix, confidence: confidence, config: config, threadCount: 1)
        config.solver = .conjugateGradient
        config.cgSteps = 50
        ImplicitALS.halfSweep(
            solving: &iterative, fixed: fixed, matrix: matrix, confidence: confidence, config: config, threadCount: 1)
        #expect(zip(exact, iterative).allSatisfy { abs($0 - $1) < 1e-3 * max(1, abs($0)) }, "\(exact) vs \(iterative)")
        // The exact solution satisfies the normal equations: (YᵀCY + λI)x = YᵀCp.
        var residual = [Double](repeating: 0, count: k)
        for f in 0..<k { residual[f] = Double(config.regularization) * Double(exact[f]) }
        for item in 0..<20 {
            let position = matrix.columnIndices.firstIndex(of: Int32(item))
            let c = 1 + Double(position.map { confidence[$0] } ?? 0)
            let y = (0..<k).map { Double(fixed[item * k + $0]) }
            let dot = zip(y, exact).reduce(0.0) { $0 + $1.0 * Double($1.1) }
            for f in 0..<k { residual[f] += c * dot * y[f] - (position != nil ? c * y[f] : 0) }
        }
        #expect(residual.allSatisfy { abs($0) < 1e-4 }, "\(residual)")
    }

    /// `regularization_scaling=count` (Spark's weighted λ): each row solves (YᵀC_uY + λ·n_u·I)x = YᵀC_u p
    /// — checked against the normal equations in Double, for both solvers, for rows with 2 and 5 items.
    @Test(arguments: [ImplicitALS.Solver.cholesky, .conjugateGradient])
    func countScaledRegularizationSolvesWeightedNormalEquations(solver: ImplicitALS.Solver) {
        let k = 5
        var generator = SplitMix64(seed: 8)
        let fixed = (0..<(24 * k)).map { _ in generator.nextUnitFloat() - 0.5 }
        // Rows of 2, 5 and 20 items: the last takes the sgemm path of the exact solver.
        let long = (0..<20).map { Int32(($0 * 7) % 24) }
        let matrix = try! InteractionMatrix(
            rowCount: 3, columnCount: 24, rowOffsets: [0, 2, 7, 27],
            columnIndices: [3, 8, 0, 2, 5, 9, 11] + long.sorted(),
            values: [1, 4, 2, 1, 1, 3, 1] + (0..<20).map { Float($0 % 4 + 1) })
        #expect(20 >= ALSWorkspace.gemmThreshold)
        var config = ImplicitALS.Config()
        config.factorCount = k
        config.alpha = 1.5
        config.regularization = 0.3
        config.regularizationScaling = .count
        config.solver = solver
        config.cgSteps = 60
        let confidence = ImplicitALS.confidences(matrix.values, config)
        var solution = [Float](repeating: 0, count: 3 * k)
        ImplicitALS.halfSweep(
            solving: &solution, fixed: fixed, matrix: matrix, confidence: confidence, config: config, threadCount: 2)
        for row in 0..<3 {
            let range = matrix.rowOffsets[row]..<matrix.rowOffsets[row + 1]
            let lambda = 0.3 * Double(range.count)
            let x = (0..<k).map { Double(solution[row * k + $0]) }
            var residual = x.map { lambda * $0 }
            for item in 0..<24 {
                let position = range.first { matrix.columnIndices[$0] == Int32(item) }
                let c = 1 + Double(position.map { confidence[$0] } ?? 0)
                let y = (0..<k).map { Double(fixed[item * k + $0]) }
                let dot = zip(y, x).reduce(0.0) { $0 + $1.0 * $1.1 }
                for f in 0..<k { residual[f] += c * dot * y[f] - (position != nil ? c * y[f] : 0) }
            }
            #expect(residual.allSatisfy { abs($0) < 2e-4 }, "row \(row): \(residual)")
        }
        // Fold-in of the second row's history solves the same equations.
        config.iterationCount = 1
        let model = ImplicitALS(
            config: config,
            factors: FactorModel(users: [Float](repeating: 0, count: k), items: fixed, width: k))
        let history: [Int32] = [0, 2, 5, 9, 11]
        var binary = config
        binary.solver = .cholesky
        var exact = [Float](repeating: 0, count: k)
        let ones = try! InteractionMatrix(
            rowCount: 1, columnCount: 24, rowOffsets: [0, 5], columnIndices: history, values: [1, 1, 1, 1, 1])
        ImplicitALS.halfSweep(
            solving: &exact, fixed: fixed, matrix: ones, confidence: ImplicitALS.confidences(ones.values, binary),
            config: binary, threadCount: 1)
        let scores = model.scores(forHistory: history)
        for item in 0..<24 {
            let direct = (0..<k).reduce(Float(0)) { $0 + exact[$1] * fixed[item * k + $1] }
            #expect(abs(direct - scores[item]) < 1e-5)
        }
    }

    /// Constant scaling is the default, and count scaling changes the factors.
    @Test func countScalingIsAnOption() throws {
        let train = SyntheticData.generate(preset: .tiny, seed: 24).ratings.interactions
        #expect(ImplicitALS.Config().regularizationScaling == .constant)
        let constant = try ImplicitALS(fitting: train, config: config { $0.iterationCount = 2 })
        let counted = try ImplicitALS(
            fitting: train,
            config: config {
                $0.iterationCount = 2
                $0.regularizationScaling = .count
            })
        #expect(constant.factors.userFactors != counted.factors.userFactors)
        let parsed = try ImplicitALS.config(from: ["regularization_scaling": "count"])
        #expect(parsed.regularizationScaling == .count)
    }

    @Test func frequencyScalingFollowsRendleEtAl() throws {
        // λ·(n + N/α)^ν: 2·(3 + 20/4)^0.5 = 2·√8.
        var frequency = config {
            $0.regularizationScaling = .frequency
            $0.regularization = 2
            $0.alpha = 4
            $0.frequencyExponent = 0.5
        }
        #expect(abs(ImplicitALS.rowRegularization(count: 3, columns: 20, frequency) - 2 * Float(8).squareRoot()) < 1e-5)
        #expect(ImplicitALS.rowRegularization(count: 3, columns: 20, config { $0.regularization = 2 }) == 2)
        #expect(
            ImplicitALS.rowRegularization(
                count: 3, columns: 20,
                config {
                    $0.regularization = 2
                    $0.regularizationScaling = .count
                }) == 6)
        // ν = 0 is the constant λ (the same solves, rounded in another order).
        let train = SyntheticData.generate(preset: .tiny, seed: 24).ratings.interactions
        frequency.frequencyExponent = 0
        frequency.iterationCount = 3
        frequency.solver = .cholesky
        var constant = frequency
        constant.regularizationScaling = .constant
        let a = try ImplicitALS(fitting: train, config: frequency).factors.userFactors.scalars
        let b = try ImplicitALS(fitting: train, config: constant).factors.userFactors.scalars
        #expect(zip(a, b).allSatisfy { abs($0 - $1) < 1e-4 })
        // It needs α > 0 for N/α.
        #expect(throws: ConfigError.self) {
            try ImplicitALS.config(from: ["regularization_scaling": "frequency", "alpha": "0"])
        }
    }

    @Test func implicitsConfidenceIsOursWithAlphaMinusOne() throws {
        // On binary data implicit's c = α·r equals c = 1 + (α − 1)·r: the same factors, bit for bit.
        let train = SyntheticData.generate(preset: .tiny, seed: 23).ratings.interactions
        let binary = try Interactions(
            users: train.users, items: train.items, userCount: train.userCount, itemCount: train.itemCount)
        let theirs = try ImplicitALS(
            fitting: binary,
            config: config {
                $0.alpha = 10
                $0.confidence = .implicit
                $0.iterationCount = 3
            })
        let ours = try ImplicitALS(
            fitting: binary,
            config: config {
                $0.alpha = 9
                $0.iterationCount = 3
            })
        #expect(theirs.factors.itemFactors == ours.factors.itemFactors)
    }

    @Test func packedAndInPlaceRowsSolveIdentically() {
        // Rows are copied side by side below the workspace's limit and read in place above it; both
        // paths must give the same bits. k = 20 also exercises the kernels' scalar tails.
        let k = 20
        let itemCount = 50
        var generator = SplitMix64(seed: 5)
        let fixed = (0..<(itemCount * k)).map { _ in generator.nextUnitFloat() - 0.5 }
        let columns = (0..<itemCount).filter { $0 % 3 != 1 }.map(Int32.init)
        let extra = columns.map { Float($0 % 4) * 0.7 }
        var gram = Tensor(shape: [itemCount, k], scalars: fixed).gram().scalars
        for f in 0..<k { gram[f * k + f] += 0.3 }
        var results: [[Float]] = []
        for limit in [Int.max, 0] {
            var workspace = ALSWorkspace(k: k, packLimit: limit)
            var x = (0..<k).map { Float($0) * 0.01 }
            x.withUnsafeMutableBufferPointer { buffer in
                fixed.withUnsafeBufferPointer { fixedBuffer in
                    workspace.conjugateGradient(
                        x: buffer.baseAddress!, gram: gram, fixed: fixedBuffer.baseAddress!, columns: columns,
                        extra: extra,
                        range: 0..<columns.count, steps: 3)
                }
            }
            results.append(x)
        }
        #expect(results[0] == results[1])
        #expect(results[0] != (0..<k).map { Float($0) * 0.01 })
    }

    @Test func foldInMatchesTrainedVectors() throws {
        let split = Self.split
        let model = try ImplicitALS(fitting: split.train, config: config())
        let trainMatrix = InteractionMatrix.byUser(split.train)
        let trained = try FullRankingEvaluator(metrics: [.ndcg(10)]).evaluate(
            model, train: split.train, test: split.test)
        let foldedScores = (0..<split.train.userCount).map {
            model.scores(forHistory: Array(trainMatrix.columns(inRow: $0)))
        }
        let folded = try FullRankingEvaluator(metrics: [.ndcg(10)]).evaluate(
            ScoreTable(name: "fold-in", foldedScores), train: split.train, test: split.test)
        #expect(abs(folded["ndcg@10"]! - trained["ndcg@10"]!) < 0.01, "\(folded["ndcg@10"]!) vs \(trained["ndcg@10"]!)")
    }

    @Test func badSettingsAreRejected() {
        #expect(throws: ConfigError.self) { try ConfiguredModel("ials", settings: ["factors": "0"]) }
        #expect(throws: ConfigError.self) { try ConfiguredModel("ials", settings: ["solver": "magic"]) }
        #expect(throws: ConfigError.self) { try ConfiguredModel("ials", settings: ["alpha": "-1"]) }
        #expect(throws: ConfigError.self) { try ConfiguredModel("ials", settings: ["regularization": "x"]) }
    }
}

@Suite struct ImplicitALSExplainTests {
    @Test func contributionsSumToTheExactFoldInScore() throws {
        let data = SyntheticData.generate(preset: .tiny, seed: 23).ratings.interactions
        var config = ImplicitALS.Config()
        config.factorCount = 8
        config.iterationCount = 5
        config.alpha = 2
        let model = try ImplicitALS(fitting: data, config: config)
        let seen = InteractionMatrix.byUser(data)
        let user = 3
        let history = zip(seen.columns(inRow: user), seen.values(inRow: user)).map { (item: $0.0, value: $0.1) }
        let item: Int32 = 7
        let explanation = model.explain(item: item, history: history, k: 1000)
        #expect(explanation.contributions.count == history.count)
        // Sum of contributions = the exact (Cholesky) solve's score for this history and values.
        #expect(abs(explanation.contributions.reduce(0) { $0 + $1.score } - explanation.score) < 1e-4)
        let user0 = try InteractionMatrix(
            rowCount: 1, columnCount: data.itemCount, rowOffsets: [0, history.count],
            columnIndices: history.map(\.item), values: history.map(\.value))
        var exact = [Float](repeating: 0, count: 8)
        var exactConfig = config
        exactConfig.solver = .cholesky
        ImplicitALS.halfSweep(
            solving: &exact, fixed: model.factors.itemFactors.scalars, matrix: user0,
            confidence: ImplicitALS.confidences(user0.values, config), config: exactConfig, threadCount: 1)
        let direct = (0..<8).reduce(Float(0)) { $0 + exact[$1] * model.factors.itemFactors.scalars[Int(item) * 8 + $1] }
        #expect(abs(direct - explanation.score) < 1e-3 * max(1, abs(direct)), "\(direct) vs \(explanation.score)")
        // Best first.
        #expect(
            zip(explanation.contributions, explanation.contributions.dropFirst()).allSatisfy { $0.score >= $1.score })
    }

    /// Negative weights would give negative confidences: a clear error names the row. (Non-finite
    /// ones never get this far: `Interactions` rejects them.)
    @Test func negativeWeightsAreRejected() throws {
        let bad = try Interactions(
            users: [0, 0, 1], items: [0, 1, 1], weights: [3, -2, 1], userCount: 2, itemCount: 2)
        #expect(throws: ConfigError.self) { try ImplicitALS(fitting: bad) }
        #expect(throws: ConfigError.self) { try LogisticMF(fitting: bad) }
        #expect(throws: ConfigError.self) { try ItemKNN(fitting: bad) }
        #expect(throws: ConfigError.self) { try UserKNN(fitting: bad) }
        do {
            _ = try ImplicitALS(fitting: bad)
        } catch {
            #expect("\(error)".contains("interaction 1 has -2.0"))
        }
    }
}

import Foundation
import Testing
import _RecKitTestSupport

@testable import RecKit

@Suite struct TunerTests {
    /// The tiny synthetic set and a validation split cut from its training part.
    static let validation: Split = {
        let data = SyntheticData.generate(preset: .tiny, seed: 3)
        let split = try! data.ratings.split(.holdout(testFraction: 0.2, minimumPerUser: 5), seed: 3)
        let (fit, heldOut) = try! split.train.split(.holdout(testFraction: 0.2, minimumPerUser: 5), seed: 4)
        return Split(train: fit, test: heldOut, users: split.users, items: split.items, description: "tiny validation")
    }()

    @Test func drawsStayInTheirRangesAndDependOnlyOnSeedAndTrial() {
        let space = SearchSpace([
            "a": .uniform(-1, 2), "b": .logUniform(0.01, 100), "c": .integer(3, 7, log: false),
            "d": .integer(1, 1000, log: true), "e": .choice(["x", "y", "z"]), "f": .fixed("5"),
        ])
        var seenIntegers = Set<Int>()
        var seenChoices = Set<String>()
        var logSmall = 0
        for trial in 0..<400 {
            let draw = space.draw(trial: trial, seed: 9)
            #expect(draw == space.draw(trial: trial, seed: 9))
            #expect((-1...2).contains(Double(draw["a"]!)!))
            let b = Double(draw["b"]!)!
            #expect((0.01...100).contains(b))
            if b < 1 { logSmall += 1 }
            let c = Int(draw["c"]!)!
            #expect((3...7).contains(c))
            seenIntegers.insert(c)
            #expect((1...1000).contains(Int(draw["d"]!)!))
            seenChoices.insert(draw["e"]!)
            #expect(draw["f"] == "5")
        }
        #expect(seenIntegers == [3, 4, 5, 6, 7])
        #expect(seenChoices == ["x", "y", "z"])
        // Log-uniform over 0.01…100: half the draws below 1 (binomial sd 10 of 400).
        #expect((160...240).contains(logSmall))
        #expect(space.draw(trial: 0, seed: 9) != space.draw(trial: 0, seed: 10))
    }

    @Test func everyModelsDefaultSpaceNamesItsSettings() throws {
        for name in ModelRegistry.names {
            guard let space = SearchSpace.defaults(for: name) else { continue }
            let tuner = try Tuner(
                model: name, space: space, metric: .ndcg(10), resultsFile: URL(fileURLWithPath: "/dev/null"))
            // Every draw is a configuration the model accepts.
            for trial in 0..<20 { _ = try ConfiguredModel(name, settings: tuner.space.draw(trial: trial, seed: 1)) }
        }
        #expect(throws: ConfigError.self) {
            try Tuner(
                model: "ease", space: SearchSpace(["factors": .uniform(1, 2)]), metric: .ndcg(10),
                resultsFile: URL(fileURLWithPath: "/dev/null"))
        }
    }

    @Test func anInterruptedSearchResumesWithoutRepeatingFinishedTrials() throws {
        let folder = TemporaryDirectory()
        let file = URL(fileURLWithPath: folder.path + "/trials.jsonl")
        let tuner = try Tuner(
            model: "ease", space: SearchSpace(["regularization": .logUniform(1, 1000)]), metric: .ndcg(10),
            seed: 5, resultsFile: file)
        let first = try tuner.search(validation: Self.validation, budget: 3, timeLimit: nil)
        #expect(first.map(\.trial) == [0, 1, 2])
        #expect(first.allSatisfy { $0.value != nil })
        // Resuming to 5 runs trials 3 and 4 only; the finished three come back as they were.
        var resumed: [Int] = []
        var ran: [Int] = []
        let second = try tuner.search(validation: Self.validation, budget: 5, timeLimit: nil) { record, old in
            if old { resumed.append(record.trial) } else { ran.append(record.trial) }
        }
        #expect(resumed == [0, 1, 2] && ran == [3, 4])
        #expect(Array(second.prefix(3)) == first)
        // Drawn as an uninterrupted search of 5 would have drawn them.
        #expect(second.map(\.settings) == (0..<5).map { tuner.space.draw(trial: $0, seed: 5) })
        // A crash in the middle of writing a line: that trial runs again, the others do not.
        let text = try String(contentsOf: file, encoding: .utf8)
        try (text + "{\"elapsed\":9,\"sett").write(to: file, atomically: true, encoding: .utf8)
        ran = []
        let third = try tuner.search(validation: Self.validation, budget: 6, timeLimit: nil) { record, old in
            if !old { ran.append(record.trial) }
        }
        #expect(ran == [5] && third.count == 6)
        #expect(try tuner.finishedTrials(validation: Self.validation) == third)
        // Another search (another metric) does not mix into this file.
        let other = try Tuner(
            model: "ease", space: tuner.space, metric: .recall(20), seed: 5, resultsFile: file)
        #expect(throws: TuningError.self) { try other.search(validation: Self.validation, budget: 7, timeLimit: nil) }
    }

    @Test func theBestTrialIsTheHighestValueAndTheEarlierOnATie() throws {
        let tuner = try Tuner(
            model: "ease", space: SearchSpace(["regularization": .logUniform(1, 1000)]), metric: .ndcg(10),
            resultsFile: URL(fileURLWithPath: "/dev/null"))
        func record(_ trial: Int, _ value: Double?) -> TrialRecord {
            TrialRecord(trial: trial, settings: [:], value: value, error: nil, elapsed: 0, seconds: 0)
        }
        #expect(tuner.best(of: [record(0, 0.2), record(1, 0.3), record(2, nil), record(3, 0.3)])?.trial == 1)
        let rmse = try Tuner(
            model: "svd", space: SearchSpace(["factors": .integer(2, 4, log: false)]), metric: .rmse,
            resultsFile: URL(fileURLWithPath: "/dev/null"))
        #expect(rmse.best(of: [record(0, 0.9), record(1, 0.8), record(2, 0.85)])?.trial == 1)
        // The value a trial reports is the validation metric of its settings.
        let value = try tuner.measure(settings: ["regularization": "50"], on: Self.validation, threadCount: 1)
        let direct = try Tuner.evaluate(
            ConfiguredModel("ease", settings: ["regularization": "50"]), on: Self.validation, metrics: [.ndcg(10)],
            threadCount: 1)
        #expect(value == direct["ndcg@10"])
    }
    @Test func successiveHalvingPromotesTheBestThirdAndResumes() throws {
        let halving = try SuccessiveHalving(resource: "epochs", minimum: 2, maximum: 18, eta: 3, settingCount: 9)
        #expect(halving.budgets == [2, 6, 18] && (0..<3).map(halving.kept) == [9, 3, 1])
        #expect(try SuccessiveHalving.epochs(of: "bpr", fixed: [:], settingCount: 9).budgets == [11, 33, 100])
        #expect(
            try SuccessiveHalving.epochs(of: "bpr", fixed: ["epochs": "30"], settingCount: 9).budgets == [3, 10, 30])
        #expect(throws: ConfigError.self) { try SuccessiveHalving.epochs(of: "ease", fixed: [:], settingCount: 9) }
        let folder = TemporaryDirectory()
        let file = URL(fileURLWithPath: folder.path + "/trials.jsonl")
        let space = SearchSpace(["learning_rate": .logUniform(0.001, 0.3), "factors": .integer(4, 32, log: true)])
        #expect(throws: ConfigError.self) {
            try Tuner(
                model: "bpr", space: SearchSpace(["epochs": .integer(1, 9, log: false)]), metric: .ndcg(10),
                resultsFile: file, halving: halving)
        }
        let tuner = try Tuner(
            model: "bpr", space: space, fixed: ["threads": "1"], metric: .ndcg(10), seed: 2, resultsFile: file,
            halving: halving)
        let trials = try tuner.search(validation: Self.validation, budget: nil, timeLimit: nil)
        #expect(trials.map { $0.rung ?? -1 } == Array(repeating: 0, count: 9) + [1, 1, 1, 2])
        for record in trials { #expect(record.settings["epochs"] == String(halving.budgets[record.rung!])) }
        // Each rung trains the best of the one before, best first; the best is the last rung's.
        let promoted = tuner.ranked(Array(trials.prefix(9))).prefix(3).map(\.trial)
        #expect(trials[9..<12].map(\.trial) == promoted)
        #expect(trials[12].trial == tuner.ranked(Array(trials[9..<12]))[0].trial)
        #expect(tuner.best(of: trials) == trials[12])
        // Cut after the first promoted trial: a re-run trains only what is missing, to the same values.
        let lines = try String(contentsOf: file, encoding: .utf8).split(separator: "\n")
        try (lines.prefix(11).joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)
        var ran: [Int] = []
        let resumed = try tuner.search(validation: Self.validation, budget: nil, timeLimit: nil) { record, old in
            if !old { ran.append(record.rung!) }
        }
        #expect(ran == [1, 1, 2])
        #expect(resumed.map { [$0.trial, $0.rung!] } == trials.map { [$0.trial, $0.rung!] })
        #expect(resumed.map(\.value) == trials.map(\.value))
        // Another bracket (more settings) is another search: refused, not mixed in.
        let wider = try Tuner(
            model: "bpr", space: space, fixed: ["threads": "1"], metric: .ndcg(10), seed: 2, resultsFile: file,
            halving: try SuccessiveHalving(resource: "epochs", minimum: 2, maximum: 18, eta: 3, settingCount: 27))
        #expect(throws: TuningError.self) { try wider.search(validation: Self.validation, budget: nil, timeLimit: nil) }
    }
}

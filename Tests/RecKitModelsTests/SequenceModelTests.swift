import Foundation
import RecKitNN
import RecKitTensor
import Testing
import _RecKitTestSupport

@testable import RecKitData
@testable import RecKitEval
@testable import RecKitModels

@Suite struct SequenceModelTests {
    /// Sessions (users) over 4 items, in time order: s0 0 1 2, s1 0 1, s2 1 2, s3 3 0.
    let sessions = try! Interactions(
        users: [0, 0, 0, 1, 1, 2, 2, 3, 3], items: [0, 1, 2, 0, 1, 1, 2, 3, 0],
        timestamps: [1, 2, 3, 1, 2, 1, 2, 1, 2], userCount: 4, itemCount: 4)

    /// Sessions holding each item: 0 → 3, 1 → 3, 2 → 2, 3 → 1; co-sessions (0,1) 2, (0,2) 1, (0,3) 1,
    /// (1,2) 2. With λ = 1: sim(0,1) = 2/(3+1), sim(0,2) = 1/(√6+1), sim(0,3) = 1/(√3+1).
    @Test func sessionKNNByHand() throws {
        var config = SessionKNN.Config()
        config.regularization = 1
        let model = try SessionKNN(fitting: sessions, config: config)
        let expected: [Float] = [0, 0.5, 1 / (6.0.squareRoot() + 1), 1 / (3.0.squareRoot() + 1)].map { Float($0) }
        for (a, b) in zip(model.scores(forHistory: [2, 0]), expected) { #expect(abs(a - b) < 1e-6) }
        // Only the last click counts; a training session scores from its own last click.
        #expect(model.scores(forHistory: [3, 1, 0]) == model.scores(forHistory: [0]))
        #expect(model.scores(forUsers: [3]).scalars == model.scores(forHistory: [0]))
        #expect(model.scores(forHistory: []) == [0, 0, 0, 0])
        // Two neighbours: item 0 keeps 1 (0.5) and 3 (0.366), not 2 (0.290).
        config.neighbourCount = 2
        let pruned = try SessionKNN(fitting: sessions, config: config)
        #expect(pruned.scores(forHistory: [0])[2] == 0 && pruned.scores(forHistory: [0])[3] > 0)
        #expect(pruned.similarItems(to: 0, k: 5).map(\.index) == [1, 3])
    }

    /// Sessions that follow a rule (after item i comes 3i + 1 mod 20, nine times in ten) that
    /// popularity cannot see: GRU4Rec must learn it.
    static func ruleSessions(count: Int, seed: UInt64) -> Interactions {
        var generator = SplitMix64(seed: seed)
        var users: [Int32] = []
        var items: [Int32] = []
        var times: [Int64] = []
        for session in 0..<count {
            var item = Int32(generator.nextIndex(below: 20))
            for position in 0..<(3 + generator.nextIndex(below: 4)) {
                users.append(Int32(session))
                items.append(item)
                times.append(Int64(session * 10 + position))
                item = generator.nextUnitFloat() < 0.9 ? (3 * item + 1) % 20 : Int32(generator.nextIndex(below: 20))
            }
        }
        return try! Interactions(users: users, items: items, timestamps: times, userCount: count, itemCount: 20)
    }

    static func nextItemRecall(_ model: some Recommender, _ test: Interactions) throws -> Double {
        let dataset = Dataset(
            name: "rule", format: .sessions, interactions: test,
            users: try IDMap(ids: (0..<test.userCount).map(String.init)),
            items: try IDMap(ids: (0..<20).map(String.init)))
        let cases = dataset.nextItemCases(items: dataset.items)
        return try NextItemEvaluator(metrics: [.recall(3)]).evaluate(model, cases: cases, trainInteractionCount: 0)[
            "recall@3"]!
    }

    /// The small GRU4Rec the rule tests train: 16 units, 6 epochs at 0.01, no validation.
    static func smallGRU4Rec() -> GRU4Rec.Config {
        var config = GRU4Rec.Config()
        config.hiddenSize = 16
        config.epochCount = 6
        config.learningRate = 0.01
        config.validation = 0
        return config
    }

    @Test func gru4recLearnsTheRuleAndRepeatsBitForBit() throws {
        let train = Self.ruleSessions(count: 400, seed: 1)
        let test = Self.ruleSessions(count: 100, seed: 2)
        let config = Self.smallGRU4Rec()
        let context = TrainingContext(threadCount: 1)
        let model = try GRU4Rec(fitting: train, config: config, context: context)
        let popularity = try Popularity(fitting: train)
        let recall = try Self.nextItemRecall(model, test)
        let baseline = try Self.nextItemRecall(popularity, test)
        #expect(recall > 0.8 && baseline < 0.3, "gru4rec \(recall), popularity \(baseline)")
        let again = try GRU4Rec(fitting: train, config: config, context: context)
        #expect(again.parameters == model.parameters)
        // The inference pass equals the training network read step by step.
        let network = GRU4RecNetwork(config: config, itemCount: 20, tokenCount: 0)
        network.load(model.parameters)
        network.setTraining(false)
        var state = Variable(Tensor.zeros([1, 16]))
        for item: Int32 in [4, 13, 0] { state = network.step([item], contexts: nil, state: state) }
        let stepped = network.logits(state, columns: nil).value.scalars
        for (a, b) in zip(stepped, model.scores(forHistory: [4, 13, 0])) { #expect(abs(a - b) < 1e-5) }
        // The other losses and sampled negatives learn too.
        for (loss, negatives) in [(GRU4Rec.LossKind.bprMax, 8), (.top1Max, 8), (.crossEntropy, 8)] {
            var variant = config
            variant.loss = loss
            variant.negativeCount = negatives
            let other = try GRU4Rec(fitting: train, config: variant, context: context)
            let value = try Self.nextItemRecall(other, test)
            #expect(value > 0.7, "\(loss) with \(negatives) negatives: \(value)")
        }
    }

    /// Validation cut from the most recent sessions chooses the epoch count, which the saved
    /// configuration records; a caller's validation part is used instead when given.
    @Test func gru4recChoosesEpochsOnValidation() throws {
        let train = Self.ruleSessions(count: 300, seed: 3)
        var config = GRU4Rec.Config()
        config.hiddenSize = 8
        config.epochCount = 4
        config.patience = 1
        let model = try GRU4Rec(fitting: train, config: config, context: TrainingContext(threadCount: 1))
        #expect((1...4).contains(model.config.epochCount))
        let part = try SequenceValidation(cutting: train, fraction: 0.1, model: "gru4rec")
        #expect(Set(part.fit.users).count == 270 && !part.cases.isEmpty)
        // The held-out sessions are the latest: users 270..<300 (times grow with the session index).
        #expect(part.cases.allSatisfy { Int($0.sessionID)! >= 270 })
        let given = try GRU4Rec(
            fitting: train, config: config, context: TrainingContext(threadCount: 1), validation: part)
        #expect(given.config.epochCount == model.config.epochCount && given.parameters == model.parameters)
    }

    @Test func sasrecLearnsTheRuleAndRepeatsBitForBit() throws {
        let train = Self.ruleSessions(count: 400, seed: 4)
        let test = Self.ruleSessions(count: 100, seed: 5)
        var config = SASRec.Config()
        config.loss = .bce
        config.factorCount = 16
        config.maxLength = 6
        config.epochCount = 20
        config.batchSize = 32
        config.dropout = 0.1
        config.learningRate = 0.01
        config.validation = 0
        let context = TrainingContext(threadCount: 1)
        let model = try SASRec(fitting: train, config: config, context: context)
        let recall = try Self.nextItemRecall(model, test)
        #expect(recall > 0.8, "sasrec \(recall)")
        let again = try SASRec(fitting: train, config: config, context: context)
        #expect(again.parameters == model.parameters)
        // Only the last max_length items count; a training user scores from its own sequence.
        #expect(model.scores(forHistory: [1, 2, 3, 4, 5, 6, 7]) == model.scores(forHistory: [2, 3, 4, 5, 6, 7]))
        let sequence = train.sequences()[3]
        #expect(model.scores(forUsers: [3]).scalars == model.scores(forHistory: sequence))
        // Softmax cross-entropy over every item, and over sampled items, learn it too.
        for negatives in [0, 6] {
            var variant = config
            variant.loss = .crossEntropy
            variant.negativeCount = negatives
            variant.epochCount = 10
            let other = try SASRec(fitting: train, config: variant, context: context)
            let value = try Self.nextItemRecall(other, test)
            #expect(value > 0.8, "cross-entropy with \(negatives) negatives: \(value)")
        }
    }

    /// SASRec's network computes only the real positions; its states there equal the left-padded
    /// window's (padded positions zeroed by the mask, every position attended), for sequences
    /// shorter than, as long as and longer than the window and an empty one, two heads, no dropout.
    @Test func sasrecPackedStatesEqualThePaddedWindow() {
        var config = SASRec.Config()
        config.factorCount = 8
        config.headCount = 2
        config.maxLength = 5
        config.seed = 3
        let itemCount = 9
        let network = SASRecNetwork(config: config, itemCount: itemCount)
        network.setTraining(false)
        let sequences: [[Int32]] = [[1, 2, 3], [4, 5, 6, 7, 8], [0], [], [8, 7, 6, 5, 4, 3, 2], [2, 2]]
        let (packed, layout) = network(sequences)
        let length = config.maxLength
        var indices: [Int32] = []
        var mask: [Float] = []
        var real: [Int32] = []
        for sequence in sequences {
            let window = sequence.suffix(length)
            for position in 0..<length {
                let isReal = position >= length - window.count
                if isReal { real.append(Int32(indices.count)) }
                indices.append(isReal ? window[window.startIndex + position - (length - window.count)] : 9)
                mask.append(isReal ? 1 : 0)
            }
        }
        let masked = Tensor(shape: [indices.count, 1], scalars: mask)
        let positions = (0..<indices.count).map { Int32($0 % length) }
        var x = (network.items(indices) * Float(8).squareRoot() + network.positions(positions)) * masked
        for block in 0..<config.blockCount {
            let normalized = network.attentionNorms[block](x)
            x = x + network.attention[block](normalized, batch: sequences.count, length: length)
            x = (x + network.feedForward[block](network.feedForwardNorms[block](x))) * masked
        }
        let padded = network.finalNorm(x).value.gathering(rows: real)
        #expect(layout.rowCount == real.count && packed.shape == padded.shape)
        for (a, b) in zip(packed.value.scalars, padded.scalars) { #expect(abs(a - b) < 1e-4, "\(a) vs \(b)") }
        // An empty history scores from the padded window's state, the final norm's bias.
        let state = network.finalNorm(Variable(Tensor.zeros([1, 8]))).value
        let table = network.items.table.value.gathering(rows: (0..<Int32(itemCount)).map { $0 })
        let expected = state.matmul(table, transposingOther: true).scalars
        for (a, b) in zip(network.scores(histories: [[]]).scalars, expected) { #expect(abs(a - b) < 1e-5) }
    }

    /// A small YouTube DNN that sees only the last item: enough to learn `ruleSessions`' rule.
    static func youtubednnRuleConfig() -> YouTubeDNN.Config {
        var config = YouTubeDNN.Config()
        config.embeddingWidth = 16
        config.layers = [32, 16]
        config.historyLength = 1
        config.negativeCount = 8
        config.epochCount = 10
        config.batchSize = 32
        config.learningRate = 0.01
        config.validation = 0
        return config
    }

    /// YouTube DNN with a one-item history sees the last item, so it must learn the rule, with the
    /// full softmax and with the sampled one (log-Q corrected or not); seeded runs repeat bit for bit.
    @Test func youtubednnLearnsTheRuleAndRepeatsBitForBit() throws {
        let train = Self.ruleSessions(count: 400, seed: 4)
        let test = Self.ruleSessions(count: 100, seed: 5)
        let config = Self.youtubednnRuleConfig()
        let context = TrainingContext(threadCount: 1)
        let model = try YouTubeDNN(fitting: train, config: config, context: context)
        let recall = try Self.nextItemRecall(model, test)
        #expect(recall > 0.8, "youtubednn \(recall)")
        #expect(try YouTubeDNN(fitting: train, config: config, context: context).parameters == model.parameters)
        // Only the last `history` items count; a training user scores from its own sequence.
        #expect(model.scores(forHistory: [1, 2, 3]) == model.scores(forHistory: [3]))
        #expect(model.scores(forUsers: [3]).scalars == model.scores(forHistory: train.sequences()[3]))
        for (softmax, logQ) in [(YouTubeDNN.Softmax.full, true), (.sampled, false)] {
            var variant = config
            variant.softmax = softmax
            variant.logQ = logQ
            let other = try YouTubeDNN(fitting: train, config: variant, context: context)
            let value = try Self.nextItemRecall(other, test)
            #expect(value > 0.8, "\(softmax) softmax, log Q \(logQ): \(value)")
        }
    }

    /// The examples of two sequences by hand: every position after the first, its history the
    /// items before it (at most two), its age the time to the data's end over the largest; a drawn
    /// item equal to a row's target is lowered out of that row's softmax.
    @Test func nextItemExamplesByHand() throws {
        // User 0: 4 (t0), 5 (t4), 6 (t8), 7 (t10); user 1: 8 (t6), 9 (t2) → time order 9 8.
        let data = try Interactions(
            users: [0, 0, 0, 0, 1, 1], items: [4, 5, 6, 7, 8, 9], timestamps: [0, 4, 8, 10, 6, 2], userCount: 2,
            itemCount: 10)
        let examples = NextItemExamples(data, historyLength: 2, exampleAge: true)
        #expect(examples.count == 4)
        let batch = examples.batch([0, 1, 2, 3])
        #expect(batch.targets == [5, 6, 7, 8])
        #expect(batch.histories == [4, 4, 5, 5, 6, 9] && batch.offsets == [0, 1, 3, 5, 6])
        // Ages 6, 2, 0, 4 over 6.
        #expect(batch.ages.scalars.enumerated().filter { $0.offset % 3 == 0 }.map(\.element) == [1, 2 / 6, 0, 4 / 6])
        #expect(NextItemExamples(data, historyLength: 2, exampleAge: false).batch([0]).ages.scalars == [0, 0, 0])
        var sampled = examples.batch([0, 3])
        let sampler = NegativeSampler(
            itemCount: 10, kind: .popularity(alpha: 1), counts: [0, 0, 0, 0, 1, 1, 1, 1, 1, 1])
        var generator = Xoshiro256(seed: 1)
        sampled.drawNegatives(40, from: sampler, logQ: true, using: &generator)
        let log6 = -Float(Foundation.log(6.0))
        #expect(sampled.logQ.shape == [2, 41])
        for (row, target) in [5, 8].enumerated() {
            #expect(sampled.logQ.scalars[row * 41] == log6)
            for (slot, negative) in sampled.negatives.enumerated() {
                #expect(sampled.logQ.scalars[row * 41 + 1 + slot] == (Int(negative) == target ? 1e9 : log6))
            }
        }
        #expect(Set(sampled.negatives).isSubset(of: [4, 5, 6, 7, 8, 9]) && sampled.negatives.contains(5))
    }

    /// `index=ivf`: with every cell probed the lists are the exact ones (to rounding); with one probe
    /// of eight cells each list holds items of that cell only, and a request for more items than
    /// the cell has is answered exactly; excluded items never appear.
    @Test func youtubednnRetrievesThroughAnInvertedFile() throws {
        let train = Self.ruleSessions(count: 300, seed: 4)
        var config = YouTubeDNN.Config()
        config.embeddingWidth = 8
        config.layers = [8]
        config.historyLength = 2
        config.negativeCount = 8
        config.epochCount = 3
        config.validation = 0
        let exact = try YouTubeDNN(fitting: train, config: config, context: TrainingContext(threadCount: 1))
        let users = Array(Int32(0)..<40)
        let excluded = users.map { [Int32($0 % 20), Int32(($0 + 7) % 20)] }
        let truth = exact.topItems(forUsers: users, k: 5, excluding: excluded)
        let scores = exact.scores(forUsers: users)
        func ivf(lists: Int, probes: Int) -> YouTubeDNN {
            var settings = config
            settings.index = .ivf
            settings.indexLists = lists
            settings.indexProbes = probes
            return YouTubeDNN(
                config: settings, parameters: exact.parameters, sequences: exact.sequences, itemCount: exact.itemCount)
        }
        let everyCell = ivf(lists: 8, probes: 8).topItems(forUsers: users, k: 5, excluding: excluded)
        for (row, (list, best)) in zip(everyCell, truth).enumerated() {
            #expect(list.count == 5 && list.allSatisfy { !excluded[row].contains($0.index) })
            for (found, wanted) in zip(list, best) {
                #expect(abs(found.score - wanted.score) < 1e-4)
                #expect(abs(found.score - scores.scalars[row * 20 + Int(found.index)]) < 1e-4)
            }
        }
        let oneCell = ivf(lists: 8, probes: 1)
        let index = try #require(oneCell.itemIndex?.index)
        #expect(index.listCount == 8 && index.listSizes.reduce(0, +) == 20)
        let small = oneCell.topItems(forUsers: users, k: 1, excluding: [])
        let large = oneCell.topItems(forUsers: users, k: 19, excluding: excluded)
        for row in users.indices {
            #expect(small[row].count == 1)
            // 18 items may be recommended and one cell does not hold them all: searched exactly.
            #expect(Set(large[row].map(\.index)) == Set(Int32(0)..<20).subtracting(excluded[row]))
        }
    }

    /// `examples_per_user`: an epoch keeps at most that many examples of each user, distinct, drawn
    /// afresh each epoch from the user's own positions (a short user keeps all), the same for the
    /// same seed; 0 keeps every example in order. A fit with it learns the rule and repeats.
    @Test func examplesPerUserCapsEachUsersShare() throws {
        // Users of 6, 1, 0 and 3 items: 5, 0, 0 and 2 examples.
        let lengths = [6, 1, 0, 3]
        var users: [Int32] = []
        var times: [Int64] = []
        for (user, length) in lengths.enumerated() {
            users += [Int32](repeating: Int32(user), count: length)
            times += (0..<length).map(Int64.init)
        }
        let data = try Interactions(
            users: users, items: users.indices.map { Int32($0 % 7) }, timestamps: times, userCount: 4, itemCount: 7)
        let examples = NextItemExamples(data, historyLength: 3, exampleAge: false)
        #expect(examples.count == 7 && examples.starts == [0, 5, 5, 5, 7])
        #expect(examples.epochCount(perSequence: 0) == 7)
        #expect(examples.epochExamples(perSequence: 0, seed: 1) == Array(0..<7))
        #expect(examples.epochCount(perSequence: 2) == 4)
        var draws = Set<[Int]>()
        for seed in UInt64(0)..<20 {
            let chosen = examples.epochExamples(perSequence: 2, seed: seed)
            #expect(chosen.count == 4 && Set(chosen.prefix(2)).count == 2 && chosen.prefix(2).allSatisfy { $0 < 5 })
            #expect(Array(chosen.suffix(2)) == [5, 6])
            #expect(chosen == examples.epochExamples(perSequence: 2, seed: seed))
            draws.insert(chosen.prefix(2).sorted())
        }
        #expect(draws.count > 3, "the draw changes with the seed")

        let train = Self.ruleSessions(count: 400, seed: 4)
        let test = Self.ruleSessions(count: 100, seed: 5)
        var config = Self.youtubednnRuleConfig()
        config.layers = [16]
        config.examplesPerUser = 2
        let context = TrainingContext(threadCount: 1)
        let model = try YouTubeDNN(fitting: train, config: config, context: context)
        #expect(try Self.nextItemRecall(model, test) > 0.8)
        #expect(try YouTubeDNN(fitting: train, config: config, context: context).parameters == model.parameters)
    }

    /// SASRec's validation: each sequence of three or more loses its last item to a case.
    @Test func lastItemValidationByHand() throws {
        // User 0: 5 (t1), 7 (t3), 6 (t2) → time order 5 6 7: case [5, 6] → 7. User 1: two items, kept whole.
        let data = try Interactions(
            users: [0, 0, 0, 1, 1], items: [5, 7, 6, 7, 1], timestamps: [1, 3, 2, 1, 2], userCount: 2, itemCount: 8)
        let part = try SequenceValidation(holdingOutLastOf: data, model: "m")
        // The prefix keeps its clicks' contexts (1 s apart: gap bucket 2).
        let contexts = [ClickContext(hour: 0, weekday: 3, gap: 0), ClickContext(hour: 0, weekday: 3, gap: 2)]
        #expect(part.cases == [NextItemCase(sessionID: "0", prefix: [5, 6], target: 7, contexts: contexts)])
        #expect(part.fit.count == 4 && part.fit.sequences() == [[5, 6], [7, 1]])
    }

    /// prod2vec learns which items appear in the same contexts: skip-gram's input vectors grow alike
    /// when their items share contexts (after i comes 3i + 1 mod 20, so 4 and 0 share 13: 4 → 13 → 0);
    /// as a next-item recommender it beats popularity; one seeded thread repeats bit for bit.
    /// A small item2vec for the rule sessions: 16 factors, a window of one, every item trained, no
    /// subsampling (twenty items of ~5 % each: word2vec's subsampling would drop most clicks).
    static func smallItem2Vec(_ variant: Item2Vec.Variant) -> Item2Vec.Config {
        var config = Item2Vec.Config()
        config.variant = variant
        config.factorCount = 16
        config.window = 1
        config.minimumCount = 1
        config.subsample = 0
        return config
    }

    @Test func item2vecLearnsNeighboursAndRepeats() throws {
        let train = Self.ruleSessions(count: 400, seed: 6)
        var config = Self.smallItem2Vec(.prod2vec)
        let context = TrainingContext(threadCount: 1)
        let model = try Item2Vec(fitting: train, config: config, context: context)
        #expect(model.similarItems(to: 4, k: 3).map(\.index).contains(0))
        let test = Self.ruleSessions(count: 100, seed: 7)
        let recall = try Self.nextItemRecall(model, test)
        let baseline = try Self.nextItemRecall(try Popularity(fitting: train), test)
        #expect(recall > baseline + 0.2, "item2vec \(recall), popularity \(baseline)")
        let again = try Item2Vec(fitting: train, config: config, context: context)
        #expect(again.vectors == model.vectors && model.pairsTrained > 0)
        // Scores are the summed cosine to the last `history` items.
        config.history = 1
        let last = try Item2Vec(fitting: train, config: config, context: context)
        #expect(last.scores(forHistory: [7, 4]) == last.scores(forHistory: [4]))
    }

    /// Meta-Prod2vec: metadata tokens train beside the items; without metadata the variant is an
    /// error. Each item's token names its successor in the rule (4's is "s13"), so an item with no
    /// interactions but token "s13" gets, under `meta_cold`, a vector next to the items that precede 13.
    @Test func item2vecMetaTrainsTokensAndPlacesColdItems() throws {
        let sessions = Self.ruleSessions(count: 400, seed: 6)
        let train = try Interactions(
            users: sessions.users, items: sessions.items, timestamps: sessions.timestamps,
            userCount: sessions.userCount, itemCount: 21)
        var config = Self.smallItem2Vec(.meta)
        config.metaCold = true
        let context = TrainingContext(threadCount: 1)
        #expect(throws: ConfigError.self) { try Item2Vec(fitting: train, config: config, context: context) }
        let genres = MultiValuedColumn(lists: (0..<21).map { item in ["s\(item == 20 ? 13 : (3 * item + 1) % 20)"] })
        let side = SideData(items: ItemCatalog(titles: Array(repeating: nil, count: 21), genres: genres))
        let model = try Item2Vec(fitting: train, side: side, config: config, context: context)
        #expect(model.similarItems(to: 20, k: 3).map(\.index).contains(4))
        config.metaCold = false
        let zero = try Item2Vec(fitting: train, side: side, config: config, context: context)
        #expect(zero.vectors.row(20).allSatisfy { $0 == 0 })
        #expect(try Item2Vec(fitting: train, side: side, config: config, context: context).vectors == zero.vectors)
    }

    /// user-prod2vec: each user's vector is trained to predict its items, so a training user's scores
    /// (the cosine to the item vectors) put its own items far above chance.
    @Test func item2vecUserVectorsPredictTheirItems() throws {
        let train = Self.ruleSessions(count: 400, seed: 6)
        let config = Self.smallItem2Vec(.user)
        let model = try Item2Vec(fitting: train, config: config, context: TrainingContext(threadCount: 1))
        #expect(model.userVectors?.shape == [400, 16])
        let matrix = InteractionMatrix.byUser(train)
        let scores = model.scores(forUsers: (0..<400).map { Int32($0) })
        var found = 0.0
        var chance = 0.0
        for user in 0..<400 {
            let own = Set(matrix.columns(inRow: user))
            let row = Array(scores.row(user))
            let top = row.indices.sorted { row[$0] > row[$1] }.prefix(own.count)
            found += Double(top.filter { own.contains(Int32($0)) }.count) / Double(own.count)
            chance += Double(own.count) / 20
        }
        #expect(found > 2 * chance, "own items found \(found / 400), chance \(chance / 400)")
    }

    /// Sessions whose rule depends on the hour of the click: after item i at an even hour comes
    /// 3i + 1 mod 20, at an odd hour 3i + 2 mod 20; clicks are one or two hours apart at random, so
    /// the history cannot tell which rule comes next, and only the click's context can.
    static func hourlySessions(count: Int, seed: UInt64) -> Interactions {
        var generator = SplitMix64(seed: seed)
        var users: [Int32] = []
        var items: [Int32] = []
        var times: [Int64] = []
        for session in 0..<count {
            var item = Int32(generator.nextIndex(below: 20))
            var time = Int64(session) * 86_400 + Int64(generator.nextIndex(below: 24)) * 3_600
            for _ in 0..<(4 + generator.nextIndex(below: 4)) {
                users.append(Int32(session))
                items.append(item)
                times.append(time)
                let odd = (time / 3_600) % 2
                item = (3 * item + 1 + Int32(odd)) % 20
                time += Int64(1 + generator.nextIndex(below: 2)) * 3_600
            }
        }
        return try! Interactions(users: users, items: items, timestamps: times, userCount: count, itemCount: 20)
    }

    /// Latent Cross reads the hour the rule depends on: recall@1 rises from about one half (either
    /// rule) to well above; a seeded run repeats, and a saved contexts path scores training users
    /// from their own clicks' contexts.
    @Test func gru4recLatentCrossReadsTheContext() throws {
        let train = Self.hourlySessions(count: 600, seed: 11)
        let test = Self.hourlySessions(count: 100, seed: 12)
        let dataset = Dataset(
            name: "hourly", format: .sessions, interactions: test,
            users: try IDMap(ids: (0..<test.userCount).map(String.init)),
            items: try IDMap(ids: (0..<20).map(String.init)))
        let cases = dataset.nextItemCases(items: dataset.items)
        #expect(cases.cases.allSatisfy { $0.contexts?.count == $0.prefix.count })
        var config = Self.smallGRU4Rec()
        config.embeddingSize = 8
        config.epochCount = 8
        let context = TrainingContext(threadCount: 1)
        let recall = { (model: GRU4Rec) in
            try NextItemEvaluator(metrics: [.recall(1)]).evaluate(model, cases: cases, trainInteractionCount: 0)[
                "recall@1"]!
        }
        let plain = try recall(try GRU4Rec(fitting: train, config: config, context: context))
        config.latentCross = true
        let crossed = try GRU4Rec(fitting: train, config: config, context: context)
        let withContext = try recall(crossed)
        #expect(plain < 0.6 && withContext > plain + 0.2, "plain \(plain), latent cross \(withContext)")
        #expect(try GRU4Rec(fitting: train, config: config, context: context).parameters == crossed.parameters)
        // A history scored without times gets neutral contexts; with them, the crossed scores.
        let contexts = try #require(train.sequenceContexts())
        #expect(
            crossed.scores(forUsers: [5])
                == crossed.scores(forHistories: [train.sequences()[5]], contexts: [contexts[5]]))
        #expect(
            crossed.scores(forHistories: [[4, 13]])
                == crossed.reader.scores(histories: [[4, 13]], contexts: nil))
        let untimed = try Interactions(users: train.users, items: train.items, userCount: 600, itemCount: 20)
        #expect(throws: ConfigError.self) { try GRU4Rec(fitting: untimed, config: config, context: context) }
    }

    /// Multi-task: a head predicting the next item's genres trains beside the next-item loss (the rule
    /// is still learned); without genres the setting is an error.
    @Test func gru4recAuxiliaryHeadNeedsGenresAndLearns() throws {
        let train = Self.ruleSessions(count: 400, seed: 1)
        let test = Self.ruleSessions(count: 100, seed: 2)
        var config = Self.smallGRU4Rec()
        config.auxiliary = .genres
        let context = TrainingContext(threadCount: 1)
        #expect(throws: ConfigError.self) { try GRU4Rec(fitting: train, config: config, context: context) }
        let genres = MultiValuedColumn(
            lists: (0..<20).map { [$0 % 2 == 0 ? "even" : "odd", $0 < 10 ? "low" : "high"] })
        let side = SideData(items: ItemCatalog(titles: Array(repeating: nil, count: 20), genres: genres))
        let model = try GRU4Rec(fitting: train, side: side, config: config, context: context)
        #expect(model.parameters["auxiliary.weight"]?.shape == [16, 4])
        let recall = try Self.nextItemRecall(model, test)
        #expect(recall > 0.8, "gru4rec with the genre head \(recall)")
        // The head's targets: each item's genres as a distribution.
        #expect(GRU4Rec.distributions(of: [3], tokens: genres).scalars == [0, 0.5, 0.5, 0])
    }
}

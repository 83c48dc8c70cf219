import Foundation
import RecKitData
import RecKitNN
import RecKitTensor

/// What the ranking stage of `twostage` knows of the catalogue: each item's popularity overall and
/// lately, its genres and year, and the retriever's item vectors at unit length. Built from the data
/// a pair of stages was trained on (Covington et al. 2016, §4: the ranker sees features the
/// retriever does not).
struct CandidateCatalog: Sendable {
    /// log(1 + interactions) per item.
    var popularity: [Float]
    /// log(1 + interactions) per item over the data's most recent tenth (by time; by row order
    /// without times): what is popular now.
    var recentPopularity: [Float]
    /// Each item's genre indices (empty when unknown).
    var genres: [[Int32]]
    /// Release years, NaN when unknown.
    var years: [Float]
    /// The retriever's item vectors scaled to unit length (nil when the retriever has none).
    var unitVectors: Tensor?

    var itemCount: Int { popularity.count }
    var genreCount: Int { Int(genres.lazy.flatMap { $0 }.max() ?? -1) + 1 }

    init(popularity: [Float], recentPopularity: [Float], genres: [[Int32]], years: [Float], unitVectors: Tensor?) {
        self.popularity = popularity
        self.recentPopularity = recentPopularity
        self.genres = genres
        self.years = years
        self.unitVectors = unitVectors
    }

    init(train: Interactions, items: ItemCatalog?, retriever: any Recommender) {
        let n = train.itemCount
        var counts = [Float](repeating: 0, count: n)
        for item in train.items { counts[Int(item)] += 1 }
        var recent = [Float](repeating: 0, count: n)
        let rows: [Int]
        if let times = train.timestamps, !times.isEmpty {
            let cut = times.sorted()[Int(Double(times.count - 1) * 0.9)]
            rows = times.indices.filter { times[$0] >= cut }
        } else {
            rows = Array((train.count - train.count / 10)..<train.count)
        }
        for row in rows { recent[Int(train.items[row])] += 1 }
        var genres = [[Int32]](repeating: [], count: n)
        var years = [Float](repeating: .nan, count: n)
        if let items, items.count == n {
            if let column = items.genres {
                for item in 0..<n {
                    genres[item] = Array(column.values[column.offsets[item]..<column.offsets[item + 1]])
                }
            }
            for (item, year) in items.years.enumerated() { if let year { years[item] = Float(year) } }
        }
        self.init(
            popularity: counts.map { Foundation.log1p($0) }, recentPopularity: recent.map { Foundation.log1p($0) },
            genres: genres, years: years,
            unitVectors: (retriever as? any InnerProductModel).map { Self.unitRows($0.itemVectors) })
    }

    /// `matrix`'s rows scaled to unit length (zero rows stay zero).
    static func unitRows(_ matrix: Tensor) -> Tensor {
        let width = matrix.shape[1]
        var scalars = matrix.scalars
        for row in 0..<matrix.shape[0] {
            var norm: Float = 0
            for j in 0..<width { norm += scalars[row * width + j] * scalars[row * width + j] }
            let scale = norm > 0 ? 1 / norm.squareRoot() : 0
            for j in 0..<width { scalars[row * width + j] *= scale }
        }
        return Tensor(shape: matrix.shape, scalars: scalars)
    }

    func save(into weights: inout ModelWeights, prefix: String) {
        weights.store(popularity, as: prefix + "popularity")
        weights.store(recentPopularity, as: prefix + "recent_popularity")
        weights.store(sequences: genres, as: prefix + "genres")
        weights.store(years, as: prefix + "years")
    }

    init(restoring weights: ModelWeights, prefix: String, itemCount: Int, retriever: any Recommender)
        throws(RestoreError)
    {
        let genres = try weights.sequences(prefix + "genres", count: itemCount, itemCount: Int(Int32.max))
        self.init(
            popularity: try weights.vector(prefix + "popularity", count: itemCount),
            recentPopularity: try weights.vector(prefix + "recent_popularity", count: itemCount), genres: genres,
            years: try weights.vector(prefix + "years", count: itemCount),
            unitVectors: (retriever as? any InnerProductModel).map { Self.unitRows($0.itemVectors) })
    }
}

/// The features of each (user, candidate) pair the ranking stage orders: the retriever's score
/// (standardised over the user's candidates) and rank, the ranker model's score (standardised), the
/// item's popularity overall and lately, the user × item-genre affinity (the share of the user's
/// history in the item's genres), how many interactions ago the user last met one of its genres,
/// the item's similarity (retriever vectors) to the user's most recent items and to the whole
/// history, the history's length, and the gap between the item's year and those of the recent items.
/// Histories are read in order: the most recent item last.
struct CandidateFeatures {
    static let names = [
        "retrieval_score", "retrieval_rank", "ranker_score", "popularity", "recent_popularity", "genre_share",
        "since_genre", "genre_unseen", "recent_similarity", "history_similarity", "history_length", "year_gap",
    ]
    static var count: Int { names.count }

    let catalog: CandidateCatalog
    /// How many of the latest history items "recent" means.
    let recent: Int

    /// `[candidates.count × count]` features, row by row. `rankerScores`: the ranker model's score of
    /// every item for this user (nil without one).
    func rows(history: [Int32], candidates: [ScoredIndex], rankerScores: ArraySlice<Float>?) -> [Float] {
        let width = Self.count
        var out = [Float](repeating: 0, count: candidates.count * width)
        let retrieval = Self.standardised(candidates.map(\.score))
        let ranked = rankerScores.map { scores in
            Self.standardised(candidates.map { scores[scores.startIndex + Int($0.index)] })
        }
        let n = history.count
        var genreCounts = [Float](repeating: 0, count: catalog.genreCount)
        var lastSeen = [Int](repeating: -1, count: catalog.genreCount)
        for (position, item) in history.enumerated() {
            for genre in catalog.genres[Int(item)] {
                genreCounts[Int(genre)] += 1
                lastSeen[Int(genre)] = position
            }
        }
        let latest = history.suffix(recent)
        let recentVector = catalog.unitVectors.map { Self.meanDirection(of: latest, in: $0) }
        let historyVector = catalog.unitVectors.map { Self.meanDirection(of: history[...], in: $0) }
        let knownYears = latest.map { catalog.years[Int($0)] }.filter { !$0.isNaN }
        let recentYear = knownYears.isEmpty ? Float.nan : knownYears.reduce(0, +) / Float(knownYears.count)
        for (row, candidate) in candidates.enumerated() {
            let item = Int(candidate.index)
            var f = row * width
            func put(_ value: Float) {
                out[f] = value
                f += 1
            }
            put(retrieval[row])
            put(Foundation.log1p(Float(row)))
            put(ranked?[row] ?? 0)
            put(catalog.popularity[item])
            put(catalog.recentPopularity[item])
            let genres = catalog.genres[item]
            var share: Float = 0
            var since = Int.max
            for genre in genres {
                share += n > 0 ? genreCounts[Int(genre)] / Float(n) : 0
                if lastSeen[Int(genre)] >= 0 { since = min(since, n - 1 - lastSeen[Int(genre)]) }
            }
            put(genres.isEmpty ? 0 : share / Float(genres.count))
            put(since == Int.max ? Foundation.log1p(Float(n)) + 1 : Foundation.log1p(Float(since)))
            put(!genres.isEmpty && since == Int.max ? 1 : 0)
            put(recentVector.map { Self.dot($0, catalog.unitVectors!, row: item) } ?? 0)
            put(historyVector.map { Self.dot($0, catalog.unitVectors!, row: item) } ?? 0)
            put(Foundation.log1p(Float(n)))
            let year = catalog.years[item]
            put(year.isNaN || recentYear.isNaN ? 0 : abs(year - recentYear) / 10)
        }
        return out
    }

    /// (x − mean) / sd over the list (zeros when it does not vary).
    static func standardised(_ values: [Float]) -> [Float] {
        guard !values.isEmpty else { return [] }
        let mean = values.reduce(0, +) / Float(values.count)
        let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Float(values.count)
        let sd = variance.squareRoot()
        return values.map { sd > 0 ? ($0 - mean) / sd : 0 }
    }

    /// The unit-length mean of `items`' rows of `vectors` (zeros for no items).
    static func meanDirection(of items: ArraySlice<Int32>, in vectors: Tensor) -> [Float] {
        let width = vectors.shape[1]
        var sum = [Float](repeating: 0, count: width)
        for item in items {
            for j in 0..<width { sum[j] += vectors.scalars[Int(item) * width + j] }
        }
        let norm = sum.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return norm > 0 ? sum.map { $0 / norm } : sum
    }

    static func dot(_ vector: [Float], _ matrix: Tensor, row: Int) -> Float {
        var total: Float = 0
        for j in vector.indices { total += vector[j] * matrix.scalars[row * vector.count + j] }
        return total
    }
}

/// The learned ordering of each user's candidates: an MLP over standardised `CandidateFeatures`
/// giving one score per candidate, trained listwise (softmax cross-entropy of the item the user
/// went on to choose against the user's other candidates), the epoch chosen on held-out users.
final class CandidateScorer: @unchecked Sendable { // the network is only read once trained
    struct Settings {
        var hidden: Int
        var epochs: Int
        var patience: Int
        var learningRate: Float
        var batchSize: Int
        var validation: Double
        var seed: UInt64
    }

    /// One user's candidates: their feature rows and the positions of the items they chose.
    struct List {
        var features: [Float]
        var positives: [Int32]
        var count: Int { features.count / CandidateFeatures.count }
    }

    let network: MLP
    /// Feature means and standard deviations over the training rows.
    let mean: [Float]
    let scale: [Float]

    init(network: MLP, mean: [Float], scale: [Float]) {
        self.network = network
        self.mean = mean
        self.scale = scale
    }

    static func network(hidden: Int, seed: UInt64) -> MLP {
        hidden > 0
            ? MLP([CandidateFeatures.count, hidden, 1], seed: seed)
            : MLP([CandidateFeatures.count, 1], seed: seed)
    }

    /// Trains on `lists` (those with a chosen item among equally many candidates).
    static func train(_ lists: [List], settings: Settings, context: TrainingContext) throws -> CandidateScorer {
        let width = CandidateFeatures.count
        let length = lists.map(\.count).max() ?? 0
        let usable = lists.filter { !$0.positives.isEmpty && $0.count == length }
        guard !usable.isEmpty else {
            throw ConfigError(
                model: TwoStage.name, key: "holdout",
                "no held-out item was among the retriever's candidates: nothing to learn the ranking from")
        }
        var mean = [Float](repeating: 0, count: width)
        var squares = [Float](repeating: 0, count: width)
        var rows: Float = 0
        for list in usable {
            for row in 0..<list.count {
                for j in 0..<width {
                    let value = list.features[row * width + j]
                    mean[j] += value
                    squares[j] += value * value
                }
            }
            rows += Float(list.count)
        }
        let scale = (0..<width).map { j -> Float in
            let m = mean[j] / rows
            let sd = max(0, squares[j] / rows - m * m).squareRoot()
            return sd > 1e-6 ? 1 / sd : 0
        }
        mean = mean.map { $0 / rows }
        let scorer = CandidateScorer(
            network: network(hidden: settings.hidden, seed: settings.seed), mean: mean, scale: scale)
        var order = Array(usable.indices)
        var generator = Xoshiro256(seed: settings.seed &+ 11)
        order.shuffle(using: &generator)
        let heldOut =
            settings.validation > 0 && usable.count >= 10
            ? max(1, Int((Double(usable.count) * settings.validation).rounded())) : 0
        let validation = order.prefix(heldOut).map { usable[$0] }
        let training = order.dropFirst(heldOut).map { usable[$0] }
        let optimizer = Adam(scorer.network.parameters.map(\.variable), learningRate: settings.learningRate)
        let schedule = BatchSchedule(exampleCount: training.count, batchSize: settings.batchSize, seed: settings.seed)
        var loop = TrainingLoop(
            epochCount: settings.epochs,
            earlyStopping: validation.isEmpty ? nil : EarlyStopping(patience: settings.patience, higherIsBetter: true))
        loop.prefetchDepth = 0
        try loop.run(
            scorer.network, optimizer: optimizer, context: context,
            epoch: { epoch in
                EpochBatches(inputs: schedule.batches(epoch: epoch)) { indices in indices.map { training[$0] } }
            },
            loss: { batch, _ in scorer.loss(batch, length: length) },
            validate: validation.isEmpty
                ? nil
                : { _ in ValidationMeasurement(name: "mrr", value: scorer.meanReciprocalRank(validation)) })
        return scorer
    }

    /// The standardised features as a `[rows, count]` tensor.
    func inputs(_ features: [Float]) -> Tensor {
        let width = CandidateFeatures.count
        var scalars = features
        for index in scalars.indices {
            let j = index % width
            scalars[index] = (scalars[index] - mean[j]) * scale[j]
        }
        return Tensor(shape: [features.count / width, width], scalars: scalars)
    }

    /// Softmax cross-entropy of each chosen item against its list, averaged over the chosen items.
    func loss(_ lists: [List], length: Int) -> Variable {
        let scores = network(Variable(inputs(lists.flatMap(\.features)))).reshaped([lists.count, length])
        var rows: [Int32] = []
        var labels: [Int32] = []
        for (index, list) in lists.enumerated() {
            for positive in list.positives {
                rows.append(Int32(index))
                labels.append(positive)
            }
        }
        return Loss.softmaxCrossEntropy(logits: scores.gathering(rows: rows), labels: labels)
    }

    /// One score per candidate row.
    func scores(_ features: [Float]) -> [Float] {
        guard !features.isEmpty else { return [] }
        return GradientRecording.disabled { network(Variable(inputs(features))).value.scalars }
    }

    /// The mean over chosen items of 1 / their rank in their list (ties count against them).
    func meanReciprocalRank(_ lists: [List]) -> Double {
        var total = 0.0
        var count = 0
        for list in lists {
            let scores = scores(list.features)
            for positive in list.positives {
                let target = scores[Int(positive)]
                let rank = 1 + scores.indices.filter { $0 != Int(positive) && scores[$0] >= target }.count
                total += 1 / Double(rank)
                count += 1
            }
        }
        return count > 0 ? total / Double(count) : 0
    }

    func save(into weights: inout ModelWeights, prefix: String) {
        var own = ModelWeights()
        own.store(parameters: network.namedValues)
        weights.store(own, prefix: prefix)
        weights.store(mean, as: prefix + "feature_mean")
        weights.store(scale, as: prefix + "feature_scale")
    }

    static func restore(_ weights: ModelWeights, prefix: String, hidden: Int) throws(RestoreError) -> CandidateScorer {
        let network = network(hidden: hidden, seed: 0)
        let own = weights.unprefixed(prefix)
        _ = network.load(try own.parameters(shapes: network.namedShapes))
        network.setTraining(false)
        return CandidateScorer(
            network: network, mean: try weights.vector(prefix + "feature_mean", count: CandidateFeatures.count),
            scale: try weights.vector(prefix + "feature_scale", count: CandidateFeatures.count))
    }
}

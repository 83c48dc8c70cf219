import Foundation

/// A trained model with what answering in your own IDs needs: the ID maps, the training
/// interactions (seen items are never recommended) and, when the data had them, item titles.
/// The one object the command line, the server and library users share.
///
/// ```swift
/// let dataset = try Dataset.load("ml-100k")
/// let trained = try TrainedModel(training: try ConfiguredModel("ials", settings: ["factors": "64"]), on: dataset)
/// let items = try trained.recommend(user: "196", k: 10)        // [Recommendation]: item ID, score, title
/// let forNewcomer = trained.recommend(history: ["1", "50"], k: 10).recommendations   // fold-in
/// try trained.save(to: "models/ials")
/// ```
public struct TrainedModel: Sendable {
    public var model: any TrainableRecommender
    public var users: IDMap
    public var items: IDMap
    /// User × item training matrix.
    public let seen: InteractionMatrix
    /// Training interactions per item: the popularity the cold-start answer ranks by (counted once:
    /// a server answers every newcomer from it).
    public let popularityScores: [Float]
    /// Titles aligned with `items`, when known.
    public var itemTitles: [String?]?
    /// The training data's fingerprint.
    public var fingerprint: String
    /// Where a model trained outside RecKit came from (`reckit import`): the tool, its settings and
    /// the checksums of the files read; nil for models RecKit trained.
    public var provenance: [String: JSONValue]?
    /// How the same configuration scored when trained on part of the data and tested on the rest
    /// (`reckit train --evaluate`: the split, the metrics, the sizes), saved with the model and shown
    /// by `GET /v1/models`; nil when not measured.
    public var evaluation: [String: JSONValue]?

    public init(
        model: any TrainableRecommender, users: IDMap, items: IDMap, seen: InteractionMatrix,
        itemTitles: [String?]? = nil,
        fingerprint: String, provenance: [String: JSONValue]? = nil
    ) {
        self.model = model
        self.users = users
        self.items = items
        self.seen = seen
        popularityScores = Self.interactionCounts(seen, itemCount: items.count)
        self.itemTitles = itemTitles
        self.fingerprint = fingerprint
        self.provenance = provenance
    }

    /// Trains `configured` on `interactions`, indexed by `users` and `items`.
    /// - Throws: `ConfigError` or `FitError` from the fit.
    public init(
        training configured: ConfiguredModel, on interactions: Interactions, users: IDMap, items: IDMap,
        itemTitles: [String?]? = nil, side: SideData = SideData(),
        context: TrainingContext = TrainingContext()
    ) throws {
        self.init(
            model: try configured.fit(interactions, validation: nil, side: side, context: context), users: users,
            items: items,
            seen: InteractionMatrix.byUser(interactions), itemTitles: itemTitles,
            fingerprint: interactions.fingerprint())
    }

    /// Trains `configured` on all of `dataset`.
    public init(training configured: ConfiguredModel, on dataset: Dataset, context: TrainingContext = TrainingContext())
        throws
    {
        try self.init(
            training: configured, on: dataset.interactions, users: dataset.users, items: dataset.items,
            itemTitles: dataset.itemCatalog?.titles, side: dataset.side, context: context)
    }

    /// The model's `--model` name.
    public var kind: String { type(of: model).name }

    /// The title of the item at `index`, when known.
    public func title(of index: Int32) -> String? { itemTitles?[Int(index)] ?? nil }

    /// The best `k` items for a training user, seen items excluded.
    /// - Throws: `LookupError.unknownUser` when the model was not trained on `userID`.
    public func recommend(user userID: String, k: Int = 10) throws(LookupError) -> [Recommendation] {
        guard let index = users.index(of: userID) else { throw .unknownUser(userID) }
        return recommendations(model.recommend(user: index, k: k, excludingSeen: seen))
    }

    /// The best `k` items for each of `userIDs` (training users), seen items excluded; batched.
    /// - Throws: `LookupError.unknownUser` naming the first unknown ID.
    public func recommend(users userIDs: [String], k: Int = 10) throws(LookupError) -> [[Recommendation]] {
        var indices: [Int32] = []
        indices.reserveCapacity(userIDs.count)
        for id in userIDs {
            guard let index = users.index(of: id) else { throw .unknownUser(id) }
            indices.append(index)
        }
        return model.recommend(users: indices, k: k, excludingSeen: seen).map(recommendations)
    }

    /// The best `k` items for someone who interacted with `itemIDs` (no retraining), those items
    /// excluded, by `policy` (`RecommendationPolicy`: fold-in, or item similarity for a short history).
    /// IDs the model does not know are left out and returned as `unknown`; when none is known, the
    /// answer is the cold-start one, the most popular training items (`path` says which).
    public func recommend(
        history itemIDs: [String], k: Int = 10, policy: RecommendationPolicy = RecommendationPolicy()
    ) -> HistoryRecommendations {
        HistoryRecommendations(policy.recommend(RecommendationPolicy.Request(history: itemIDs, k: k), with: self))
    }

    /// The next `k` items for an anonymous session: `itemIDs` are its clicks so far, in order (unknown
    /// IDs are skipped), read as a history (a sequence model such as `gru4rec` reads the order,
    /// `sessionknn` the last click). Items already clicked may come again (a session revisits items),
    /// unless `excludingClicked`. No known click → the most popular items.
    public func recommend(session itemIDs: [String], k: Int = 10, excludingClicked: Bool = false)
        -> HistoryRecommendations
    {
        HistoryRecommendations(
            RecommendationPolicy().recommend(
                RecommendationPolicy.Request(history: itemIDs, isSession: true, k: k, excludeSeen: excludingClicked),
                with: self))
    }

    static func interactionCounts(_ seen: InteractionMatrix, itemCount: Int) -> [Float] {
        var counts = [Float](repeating: 0, count: itemCount)
        for item in seen.columnIndices where Int(item) < itemCount { counts[Int(item)] += 1 }
        return counts
    }

    /// The `k` items with the most training interactions (ties to the lower item index): the answer
    /// for someone the model knows nothing about.
    public func popular(k: Int = 10) -> [Recommendation] {
        recommendations(
            Tensor(shape: [1, items.count], scalars: popularityScores).topKPerRow(min(k, items.count), excluding: [[]])[
                0])
    }

    /// The item an ID or a title names: the ID first, then an exact title (case-insensitive), then a
    /// title containing the text (the most popular such item first).
    public func item(matching idOrTitle: String) -> Int32? {
        if let index = items.index(of: idOrTitle) { return index }
        guard let titles = itemTitles else { return nil }
        return ItemCatalog(titles: titles).search(title: idOrTitle).first
    }

    /// The `k` items most like the one `idOrTitle` names.
    /// - Throws: `LookupError` for an unknown item or a model with no notion of similar items.
    public func similar(to idOrTitle: String, k: Int = 10) throws(LookupError) -> (
        item: Recommendation, similar: [Recommendation]
    ) {
        guard let similarity = model as? any ItemSimilarity else { throw .noSimilarity(kind) }
        guard let index = item(matching: idOrTitle) else { throw .unknownItem(idOrTitle) }
        return (
            recommendation(ScoredIndex(index: index, score: 1)),
            recommendations(similarity.similarItems(to: index, k: k))
        )
    }

    func recommendation(_ scored: ScoredIndex) -> Recommendation {
        Recommendation(item: items.id(at: scored.index), score: scored.score, title: title(of: scored.index))
    }

    /// `list` (item indices and scores) in external IDs, with titles.
    public func recommendations(_ list: [ScoredIndex]) -> [Recommendation] { list.map(recommendation) }

    /// Writes the model directory (see `ModelStore`).
    public func save(to path: String) throws(ModelStoreError) { try ModelStore.save(self, to: path) }

    /// Reads a model directory (see `ModelStore`).
    public static func load(_ path: String) throws(ModelStoreError) -> TrainedModel { try ModelStore.load(path) }
}

/// Recommendations for an ad-hoc history: the items, the history's IDs the model does not know, and
/// the policy's path (`popular` when nothing was known).
public struct HistoryRecommendations: Sendable, Equatable {
    public var recommendations: [Recommendation]
    public var unknown: [String]
    public var path: RecommendationPolicy.Path
    /// Whether nothing of the history was known, so these are the most popular items.
    public var popular: Bool { path == .popular }

    init(_ answer: RecommendationPolicy.Answer) {
        (recommendations, unknown, path) = (answer.recommendations, answer.unknown, answer.path)
    }
}

/// An item in external IDs with its score (and title, when known).
public struct Recommendation: Sendable, Equatable, Codable {
    public var item: String
    public var score: Float
    public var title: String?
    public init(item: String, score: Float, title: String? = nil) {
        self.item = item
        self.score = score
        self.title = title
    }
}

/// An ID a trained model does not know, or a question it cannot answer.
public enum LookupError: Error, Sendable, Equatable, CustomStringConvertible {
    case unknownUser(String)
    case unknownItem(String)
    case noSimilarity(String)

    public var description: String {
        switch self {
        case .unknownUser(let id): return "user '\(id)' is not in the model's training data"
        case .unknownItem(let id): return "no item with ID or title '\(id)'"
        case .noSimilarity(let kind):
            let models = ModelRegistry.all.filter { $0 is any ItemSimilarity.Type }.map { $0.name }
            return "\(kind) has no notion of similar items; use \(models.joined(separator: ", "))"
        }
    }
}

extension TrainedModel {
    /// `interactions` (indexed by `users` and `items`) re-indexed into this model's ID maps; rows
    /// whose user or item the model does not know are dropped and counted.
    public func reindex(_ interactions: Interactions, users: IDMap, items: IDMap) -> (
        interactions: Interactions, dropped: Int
    ) {
        let (result, unknownUsers, unknownItems) = reindexed(interactions, users: users, items: items)
        let kept = (0..<result.count).filter { Int(result.items[$0]) < self.items.count }
        return (result.selecting(rows: kept).withItemCount(self.items.count), unknownUsers + unknownItems)
    }

    /// What full-ranking evaluation of this model on a split with its own ID maps needs: the test pairs
    /// re-indexed (pairs of users the model does not know are dropped and counted), and test items the
    /// model never saw kept as relevant: appended after the model's items and scored −∞, so ranked after
    /// every item it knows. They count in recall and NDCG as in a full evaluation, and in the catalogue
    /// size of coverage.
    public func evaluationSetting(test: Interactions, users: IDMap, items: IDMap) -> EvaluationSetting {
        let (reindexedTest, unknownUsers, unknownItems) = reindexed(test, users: users, items: items)
        let extra = reindexedTest.itemCount - self.items.count
        let train = seenInteractions.withItemCount(reindexedTest.itemCount)
        let model: any Recommender = extra == 0 ? self.model : UnreachableItems(base: self.model, extra: extra)
        return EvaluationSetting(
            model: model, train: train, test: reindexedTest, droppedPairs: unknownUsers, unreachablePairs: unknownItems)
    }

    /// Rows re-indexed into this model's maps; unknown users dropped, unknown items numbered after the
    /// model's own (in the order of the split's map).
    private func reindexed(_ interactions: Interactions, users: IDMap, items: IDMap) -> (
        interactions: Interactions, unknownUsers: Int, unknownItems: Int
    ) {
        let userIndex = users.ids.map { self.users.index(of: $0) }
        var next = Int32(self.items.count)
        let itemIndex = items.ids.map { id -> Int32 in
            if let index = self.items.index(of: id) { return index }
            defer { next += 1 }
            return next
        }
        var keptUsers: [Int32] = []
        var keptItems: [Int32] = []
        var keptRatings: [Float] = []
        var keptTimes: [Int64] = []
        var unknownUsers = 0
        var unknownItems = 0
        var used = Set<Int32>()
        for row in 0..<interactions.count {
            guard let user = userIndex[Int(interactions.users[row])] else {
                unknownUsers += 1
                continue
            }
            let item = itemIndex[Int(interactions.items[row])]
            if Int(item) >= self.items.count {
                unknownItems += 1
                used.insert(item)
            }
            keptUsers.append(user)
            keptItems.append(item)
            if let ratings = interactions.ratings { keptRatings.append(ratings[row]) }
            if let times = interactions.timestamps { keptTimes.append(times[row]) }
        }
        // Unknown items that no kept pair names are not appended: renumber the used ones densely.
        let usedSorted = used.sorted()
        var renumber: [Int32: Int32] = [:]
        for (offset, item) in usedSorted.enumerated() { renumber[item] = Int32(self.items.count + offset) }
        if !renumber.isEmpty { keptItems = keptItems.map { renumber[$0] ?? $0 } }
        // Indices come from this model's own maps (or just past them), so the columns are valid by construction.
        let result = try! Interactions(
            users: keptUsers, items: keptItems, ratings: interactions.ratings == nil ? nil : keptRatings,
            timestamps: interactions.timestamps == nil ? nil : keptTimes,
            userCount: self.users.count, itemCount: self.items.count + usedSorted.count)
        return (result, unknownUsers, unknownItems)
    }

    /// The model's training pairs as interactions (for seen-item exclusion in evaluation).
    public var seenInteractions: Interactions {
        var users: [Int32] = []
        users.reserveCapacity(seen.nonzeroCount)
        for row in 0..<seen.rowCount { users += [Int32](repeating: Int32(row), count: seen.count(inRow: row)) }
        return try! Interactions(
            users: users, items: seen.columnIndices, weights: seen.values, userCount: seen.rowCount,
            itemCount: seen.columnCount)
    }
}

/// A saved model set up for evaluation on a split (see `TrainedModel.evaluationSetting`).
public struct EvaluationSetting: Sendable {
    public var model: any Recommender
    public var train: Interactions
    public var test: Interactions
    /// Test pairs left out because the model does not know their user.
    public var droppedPairs: Int
    /// Test pairs whose item the model never saw (kept; no list can contain them).
    public var unreachablePairs: Int
}

/// A model's scores with `extra` items after its own, scored −∞ (items it cannot know).
struct UnreachableItems: Recommender {
    let base: any Recommender
    let extra: Int

    var name: String { base.name }
    var userCount: Int { base.userCount }
    var itemCount: Int { base.itemCount + extra }

    func scores(forUsers users: [Int32]) -> Tensor { padded(base.scores(forUsers: users), rows: users.count) }

    func scores(forHistory history: [Int32]) -> [Float] {
        base.scores(forHistory: history.filter { Int($0) < base.itemCount })
            + [Float](repeating: -.infinity, count: extra)
    }

    private func padded(_ scores: Tensor, rows: Int) -> Tensor {
        let width = base.itemCount
        var out = [Float](repeating: -.infinity, count: rows * itemCount)
        scores.scalars.withUnsafeBufferPointer { source in
            out.withUnsafeMutableBufferPointer { target in
                for row in 0..<rows {
                    (target.baseAddress! + row * itemCount).update(
                        from: source.baseAddress! + row * width, count: width)
                }
            }
        }
        return Tensor(shape: [rows, itemCount], scalars: out)
    }
}

extension Interactions {
    /// The same rows over a catalogue of `itemCount` items (every row's item must be below it).
    func withItemCount(_ itemCount: Int) -> Interactions {
        if itemCount == self.itemCount { return self }
        return try! Interactions(
            users: users, items: items, ratings: ratings, timestamps: timestamps, weights: weights,
            userCount: userCount, itemCount: itemCount)
    }
}

/// Why items could not be added to a trained model.
public struct ItemAdditionError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension TrainedModel {
    /// The model with new items, known by `ids` and `catalog` (titles, genres, tags, years, one per
    /// ID), recommendable at once: their vectors come from their metadata (a model that can take them,
    /// `ItemAddingModel`); nobody has interacted with them yet.
    /// - Throws: `ItemAdditionError` for a model that cannot take items, an ID it already has or
    ///   repeated, or a catalog of another length.
    public func addingItems(ids: [String], catalog: ItemCatalog) throws(ItemAdditionError) -> TrainedModel {
        guard catalog.count == ids.count, !ids.isEmpty else {
            throw ItemAdditionError("give one title/genres entry per new item ID (\(ids.count) IDs, \(catalog.count))")
        }
        for id in ids where items.index(of: id) != nil {
            throw ItemAdditionError("item '\(id)' is already in the model")
        }
        guard type(of: model).takesNewItems else {
            let kinds = ModelRegistry.all.filter { $0.takesNewItems }.map { $0.name }
            throw ItemAdditionError(
                "\(kind) cannot take new items from metadata; train one of: \(kinds.joined(separator: ", "))")
        }
        let newItems: IDMap
        do { newItems = try IDMap(ids: items.ids + ids) } catch { throw ItemAdditionError("\(error)") }
        let widened: InteractionMatrix
        do {
            widened = try InteractionMatrix(
                rowCount: seen.rowCount, columnCount: newItems.count, rowOffsets: seen.rowOffsets,
                columnIndices: seen.columnIndices, values: seen.values)
        } catch { throw ItemAdditionError("\(error)") }
        var added = TrainedModel(
            model: model.addingItems(from: catalog)!, users: users, items: newItems, seen: widened,
            itemTitles: (itemTitles ?? [String?](repeating: nil, count: items.count)) + catalog.titles,
            fingerprint: fingerprint, provenance: provenance)
        added.evaluation = evaluation
        return added
    }
}

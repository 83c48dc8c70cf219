/// Descriptive statistics of a data set, as `reckit data inspect` prints them.
public struct DatasetSummary: Codable, Sendable, Equatable {
    public var name: String
    public var format: String
    public var userCount: Int
    public var itemCount: Int
    public var interactionCount: Int
    public var density: Double
    /// Distinct (user, item) pairs; below `interactionCount` when pairs repeat.
    public var distinctPairCount: Int
    /// Rating value → count, ascending by value; empty without ratings.
    public var ratingHistogram: [RatingBin]
    public var ratingMean: Double?
    /// The format's declared rating scale, and how many ratings fall outside it (nil without a scale).
    public var ratingScale: [Float]?
    public var ratingsOutsideScale: Int?
    public var weightTotal: Double?
    /// Interactions per user and per item at the quantiles in `quantileLevels`.
    public var quantileLevels: [Double]
    public var perUserQuantiles: [Double]
    public var perItemQuantiles: [Double]
    /// Share of interactions held by the top 1 %, 10 %, 20 % and 50 % most popular items.
    public var popularityShares: [PopularityShare]
    /// Earliest and latest Unix time, when the data has times.
    public var firstTimestamp: Int64?
    public var lastTimestamp: Int64?
    public var skippedLineCount: Int
    public var hasTitles: Bool

    public struct RatingBin: Codable, Sendable, Equatable {
        public var rating: Float
        public var count: Int
    }

    public struct PopularityShare: Codable, Sendable, Equatable {
        public var topItemFraction: Double
        public var interactionShare: Double
    }

    public init(_ dataset: Dataset) {
        let data = dataset.interactions
        name = dataset.name
        format = dataset.format.rawValue
        userCount = data.userCount
        itemCount = data.itemCount
        interactionCount = data.count
        density = data.density
        let matrix = InteractionMatrix.byUser(data)
        var distinct = 0
        for row in 0..<matrix.rowCount {
            var previous: Int32 = -1
            for column in matrix.columns(inRow: row) where column != previous {
                distinct += 1
                previous = column
            }
        }
        distinctPairCount = distinct
        if let ratings = data.ratings {
            var counts: [Float: Int] = [:]
            for rating in ratings { counts[rating, default: 0] += 1 }
            ratingHistogram = counts.keys.sorted().map { RatingBin(rating: $0, count: counts[$0]!) }
            ratingMean = ratings.isEmpty ? nil : ratings.reduce(0.0) { $0 + Double($1) } / Double(ratings.count)
            if let scale = dataset.format.ratingScale {
                ratingScale = [scale.lowerBound, scale.upperBound]
                ratingsOutsideScale = ratings.count { !scale.contains($0) }
            }
        } else {
            ratingHistogram = []
            ratingMean = nil
        }
        weightTotal = data.weights.map { $0.reduce(0.0) { $0 + Double($1) } }
        quantileLevels = [0, 0.25, 0.5, 0.75, 0.9, 0.99, 1]
        let perUser = data.countsPerUser().sorted()
        let perItem = data.countsPerItem().sorted()
        perUserQuantiles = quantileLevels.map { DatasetSummary.quantile(perUser, $0) }
        perItemQuantiles = quantileLevels.map { DatasetSummary.quantile(perItem, $0) }
        let descending = Array(perItem.reversed())
        let total = Double(max(1, data.count))
        popularityShares = [0.01, 0.1, 0.2, 0.5].map { fraction in
            let top = max(1, Int((Double(descending.count) * fraction).rounded()))
            return PopularityShare(
                topItemFraction: fraction, interactionShare: Double(descending.prefix(top).reduce(0, +)) / total)
        }
        firstTimestamp = data.timestamps?.min()
        lastTimestamp = data.timestamps?.max()
        skippedLineCount = dataset.report.skippedLineCount
        hasTitles = dataset.itemCatalog?.titles.contains { $0 != nil } ?? false
    }

    /// The `level` quantile of sorted values by linear interpolation (numpy's default).
    public static func quantile(_ sorted: [Int], _ level: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        let position = level * Double(sorted.count - 1)
        let low = Int(position.rounded(.down))
        let high = min(sorted.count - 1, low + 1)
        let fraction = position - Double(low)
        return Double(sorted[low]) + (Double(sorted[high]) - Double(sorted[low])) * fraction
    }
}

import Foundation
import RecKitTensor

/// The built-in synthetic data set: explicit ratings and implicit views drawn from a known latent
/// factor model, so the main job runs offline and tests can check that models recover structure.
///
/// Generation: each item has a primary genre (and sometimes more), a Zipf-like popularity
/// `p ∝ (rank + 0.03·items)^-2.5` over a random permutation of ids, and a true factor vector near its
/// genre's centroid. Each user favours one to three genres (factor = a mix of their centroids plus
/// noise) and has a log-normal activity. A user's items are drawn 75 % from favourite genres and 25 %
/// from global popularity, without repeats, at increasing times; a random subset of them is rated
/// `round(μ + b_u + b_i + p_u·q_i + ε)` clamped to 1…5, ε ~ N(0, 0.8²), the rest are views only.
/// Ratings are ordered by user, then item (as in MovieLens' files); events by user, then time.
///
/// Determinism: every random number comes from seeded generators, one per block of 256 users (never
/// per thread), and only `+ - * / sqrt` and `PortableMath` are used, so the same preset and seed give
/// byte-identical files on any machine and thread count.
public struct SyntheticData: Sendable {
    public static let ratingsFile = "ratings.csv"
    public static let eventsFile = "events.csv"
    public static let itemsFile = "items.csv"
    public static let manifestFile = "dataset.json"
    /// Bump when the generator changes output for a given seed.
    public static let generatorVersion = 1

    public let preset: SyntheticPreset
    public let seed: UInt64
    /// Explicit ratings with the item catalogue (titles, genres, years).
    public let ratings: Dataset
    /// All implicit events (rated and viewed items), indexed like `ratings`.
    public let events: Interactions
    public let truth: Truth

    /// The generating model.
    public struct Truth: Sendable {
        public let factorCount: Int
        /// `[userCount × factorCount]`, row-major.
        public let userFactors: [Float]
        /// `[itemCount × factorCount]`, row-major.
        public let itemFactors: [Float]
        public let userBiases: [Float]
        public let itemBiases: [Float]
        public let globalMean: Float
        /// Sampling probability of each item under global popularity.
        public let itemPopularity: [Double]
        /// Primary genre of each item (index into `SyntheticData.genreNames`).
        public let primaryGenres: [Int32]
        /// Favourite genres of each user.
        public let favouriteGenres: [[Int32]]

        /// The noiseless rating the model gives (before rounding and clamping).
        public func expectedRating(user: Int, item: Int) -> Float {
            var dot: Float = 0
            for f in 0..<factorCount {
                dot += userFactors[user * factorCount + f] * itemFactors[item * factorCount + f]
            }
            return globalMean + userBiases[user] + itemBiases[item] + dot
        }
    }

    static let genreNames = [
        "Action", "Adventure", "Animation", "Children", "Comedy", "Crime", "Documentary", "Drama", "Fantasy",
        "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War", "Western",
    ]
    /// μ of the rating model; the positive mean of p_u·q_i (users and items share genre centroids)
    /// brings the mean rating to about 3.6, as in MovieLens.
    static let globalMean: Float = 3.15
    static let usersPerBlock = 256
    static let baseTime: Int64 = 946_684_800 // 2000-01-01T00:00:00Z

    /// Generates the data set in memory.
    /// - Parameters:
    ///   - preset: the sizes.
    ///   - seed: the same seed gives the same data everywhere.
    ///   - threadCount: changes speed only, never the result.
    public static func generate(
        preset: SyntheticPreset, seed: UInt64, threadCount: Int = Parallel.defaultThreadCount
    ) -> SyntheticData {
        precondition(preset.userCount > 0 && preset.itemCount > 1 && preset.factorCount > 0, "invalid preset \(preset)")
        var root = SplitMix64(seed: seed ^ 0x5EED_DA7A)
        let itemSeed = root.next()
        let userSeed = root.next()
        let blockSeed = root.next()
        let items = ItemModel(preset: preset, seed: itemSeed)
        let users = UserModel(preset: preset, items: items, seed: userSeed)
        let blocks = Parallel.chunks(
            count: preset.userCount, chunkCount: (preset.userCount + usersPerBlock - 1) / usersPerBlock)
        let results = Parallel.map(chunkCount: blocks.count, threadCount: threadCount) { block in
            var generator = Xoshiro256(seed: blockSeed &+ UInt64(block) &* 0x9E37_79B9_7F4A_7C15)
            return generateBlock(blocks[block], users: users, items: items, preset: preset, using: &generator)
        }
        var ratingUsers: [Int32] = []
        var ratingItems: [Int32] = []
        var ratingValues: [Float] = []
        var ratingTimes: [Int64] = []
        var eventUsers: [Int32] = []
        var eventItems: [Int32] = []
        var eventTimes: [Int64] = []
        let ratingTotal = results.reduce(0) { $0 + $1.ratingUsers.count }
        let eventTotal = results.reduce(0) { $0 + $1.eventUsers.count }
        ratingUsers.reserveCapacity(ratingTotal)
        ratingItems.reserveCapacity(ratingTotal)
        ratingValues.reserveCapacity(ratingTotal)
        ratingTimes.reserveCapacity(ratingTotal)
        eventUsers.reserveCapacity(eventTotal)
        eventItems.reserveCapacity(eventTotal)
        eventTimes.reserveCapacity(eventTotal)
        for result in results {
            ratingUsers += result.ratingUsers
            ratingItems += result.ratingItems
            ratingValues += result.ratingValues
            ratingTimes += result.ratingTimes
            eventUsers += result.eventUsers
            eventItems += result.eventItems
            eventTimes += result.eventTimes
        }
        let userMap = IDMap(sortedIntegers: (1...Int64(preset.userCount)).map { $0 })
        let itemMap = IDMap(sortedIntegers: (1...Int64(preset.itemCount)).map { $0 })
        let ratingInteractions = Interactions(
            unchecked: ratingUsers, ratingItems, ratingValues, ratingTimes, nil, preset.userCount, preset.itemCount)
        let eventInteractions = Interactions(
            unchecked: eventUsers, eventItems, nil, eventTimes, nil, preset.userCount, preset.itemCount)
        let catalog = ItemCatalog(
            titles: items.titles, years: items.years,
            genres: MultiValuedColumn(
                lists: items.genres.map { $0.map { genreNames[Int($0)] } }, vocabulary: genreNames))
        let dataset = Dataset(
            name: "synthetic-\(preset.name)", format: .synthetic, interactions: ratingInteractions, users: userMap,
            items: itemMap, itemCatalog: catalog)
        let truth = Truth(
            factorCount: preset.factorCount, userFactors: users.factors, itemFactors: items.factors,
            userBiases: users.biases,
            itemBiases: items.biases, globalMean: SyntheticData.globalMean, itemPopularity: items.popularity,
            primaryGenres: items.genres.map { $0[0] }, favouriteGenres: users.favourites)
        return SyntheticData(preset: preset, seed: seed, ratings: dataset, events: eventInteractions, truth: truth)
    }

    struct BlockResult: Sendable {
        var ratingUsers: [Int32] = [], ratingItems: [Int32] = [], ratingValues: [Float] = [], ratingTimes: [Int64] = []
        var eventUsers: [Int32] = [], eventItems: [Int32] = [], eventTimes: [Int64] = []
    }

    static func generateBlock(
        _ range: Range<Int>, users: UserModel, items: ItemModel, preset: SyntheticPreset,
        using generator: inout Xoshiro256
    ) -> BlockResult {
        var result = BlockResult()
        var seenStamp = [Int32](repeating: -1, count: preset.itemCount)
        let factorCount = preset.factorCount
        var chosen: [Int32] = []
        var noise = GaussianPairs()
        for user in range {
            let ratingCount = users.activity[user]
            let viewCount = Int(Double(ratingCount) * preset.extraViewFraction)
            let total = min(ratingCount + viewCount, preset.itemCount * 2 / 3)
            chosen.removeAll(keepingCapacity: true)
            let favourites = users.favourites[user]
            while chosen.count < total {
                // The source: a favourite genre (75 %) or the whole catalogue. Popularity-weighted draws
                // first; when they keep hitting seen items, uniform draws from the same source; then
                // uniform over all items, so heavy users still finish.
                var item = -1
                let genre =
                    generator.nextUnitDouble() < 0.75
                    ? Int(favourites[generator.nextIndex(below: favourites.count)]) : -1
                var tries = 0
                while item < 0 {
                    let candidate: Int
                    if tries < 16 {
                        candidate =
                            genre >= 0
                            ? Int(items.genreMembers[genre][items.genreTables[genre].sample(using: &generator)])
                            : items.popularityTable.sample(using: &generator)
                    } else if tries < 48 && genre >= 0 {
                        let members = items.genreMembers[genre]
                        candidate = Int(members[generator.nextIndex(below: members.count)])
                    } else {
                        candidate = generator.nextIndex(below: preset.itemCount)
                    }
                    if seenStamp[candidate] != Int32(user) {
                        seenStamp[candidate] = Int32(user)
                        item = candidate
                    }
                    tries += 1
                }
                chosen.append(Int32(item))
            }
            // Which of them are only viewed: a partial Fisher–Yates shuffle of positions.
            var positions = Array(0..<chosen.count)
            let viewOnly = chosen.count - min(ratingCount, chosen.count)
            for index in 0..<viewOnly {
                let swap = index + generator.nextIndex(below: positions.count - index)
                positions.swapAt(index, swap)
            }
            var isView = [Bool](repeating: false, count: chosen.count)
            for index in 0..<viewOnly { isView[positions[index]] = true }
            var time = users.startTimes[user]
            let firstRating = result.ratingUsers.count
            for (position, item) in chosen.enumerated() {
                time += 30 + Int64(generator.nextIndex(below: 3 * 86_400))
                result.eventUsers.append(Int32(user))
                result.eventItems.append(item)
                result.eventTimes.append(time)
                if isView[position] { continue }
                var dot = 0.0
                let u = user * factorCount
                let i = Int(item) * factorCount
                for f in 0..<factorCount { dot += Double(users.factors[u + f]) * Double(items.factors[i + f]) }
                let raw =
                    Double(SyntheticData.globalMean) + Double(users.biases[user]) + Double(items.biases[Int(item)])
                    + dot
                    + 0.8 * noise.next(using: &generator)
                let rating = min(5, max(1, raw.rounded()))
                result.ratingUsers.append(Int32(user))
                result.ratingItems.append(item)
                result.ratingValues.append(Float(rating))
                result.ratingTimes.append(time)
            }
            // Like MovieLens' ratings files, ratings are sorted by user, then item (events stay in
            // time order).
            let rows = firstRating..<result.ratingUsers.count
            let order = rows.sorted { result.ratingItems[$0] < result.ratingItems[$1] }
            let sortedItems = order.map { result.ratingItems[$0] }
            let sortedValues = order.map { result.ratingValues[$0] }
            let sortedTimes = order.map { result.ratingTimes[$0] }
            result.ratingItems.replaceSubrange(rows, with: sortedItems)
            result.ratingValues.replaceSubrange(rows, with: sortedValues)
            result.ratingTimes.replaceSubrange(rows, with: sortedTimes)
        }
        return result
    }

    /// Standard normal variates by the polar method, using both values of each pair.
    struct GaussianPairs {
        var spare: Double?
        mutating func next(using generator: inout some RandomNumberGenerator) -> Double {
            if let value = spare {
                spare = nil
                return value
            }
            while true {
                let x = 2 * generator.nextUnitDouble() - 1
                let y = 2 * generator.nextUnitDouble() - 1
                let s = x * x + y * y
                if s > 0 && s < 1 {
                    let scale = (-2 * PortableMath.log(s) / s).squareRoot()
                    spare = y * scale
                    return x * scale
                }
            }
        }
    }

    /// A standard normal variate by Marsaglia's polar method (portable arithmetic only).
    static func normal(using generator: inout some RandomNumberGenerator) -> Double {
        while true {
            let x = 2 * generator.nextUnitDouble() - 1
            let y = 2 * generator.nextUnitDouble() - 1
            let s = x * x + y * y
            if s > 0 && s < 1 { return x * (-2 * PortableMath.log(s) / s).squareRoot() }
        }
    }
}

/// Items: genres, popularity, factors, titles.
struct ItemModel: Sendable {
    var genres: [[Int32]]
    var popularity: [Double]
    var popularityTable: AliasTable
    var genreMembers: [[Int32]]
    var genreTables: [AliasTable]
    var centroids: [[Double]]
    var factors: [Float]
    var biases: [Float]
    var titles: [String?]
    var years: [Int?]

    init(preset: SyntheticPreset, seed: UInt64) {
        var generator = Xoshiro256(seed: seed)
        let n = preset.itemCount
        let k = preset.factorCount
        let genreCount = SyntheticData.genreNames.count
        let scale = 0.9 / Double(k).squareRoot()
        centroids = (0..<genreCount).map { _ in
            (0..<k).map { _ in SyntheticData.normal(using: &generator) * scale * 1.6 }
        }
        // Genre sizes are uneven, like real catalogues: weight g ∝ 1/(g + 2).
        let genreWeights = AliasTable(weights: (0..<genreCount).map { 1 / Double($0 + 2) })
        var ranks = Array(0..<n)
        generator.shuffle(&ranks)
        let offset = 0.03 * Double(n)
        popularity = ranks.map { rank in
            let x = Double(rank) + offset + 1
            return 1 / (x * x * x.squareRoot())
        }
        let total = popularity.reduce(0, +)
        popularity = popularity.map { $0 / total }
        popularityTable = AliasTable(weights: popularity)
        genres = []
        factors = []
        biases = []
        titles = []
        years = []
        genres.reserveCapacity(n)
        factors.reserveCapacity(n * k)
        let maximumPopularity = popularity.max() ?? 1
        for item in 0..<n {
            let primary = Int32(genreWeights.sample(using: &generator))
            var list = [primary]
            let extra = generator.nextIndex(below: 3) // 0, 1 or 2 more genres
            for _ in 0..<extra {
                let genre = Int32(genreWeights.sample(using: &generator))
                if !list.contains(genre) { list.append(genre) }
            }
            genres.append(list)
            for f in 0..<k {
                factors.append(
                    Float(centroids[Int(primary)][f] + SyntheticData.normal(using: &generator) * scale * 0.6))
            }
            // Popular items are rated a little higher, as in MovieLens.
            let popularityBonus = 0.4 * (popularity[item] / maximumPopularity).squareRoot()
            biases.append(Float(SyntheticData.normal(using: &generator) * 0.3 + popularityBonus - 0.1))
            let year = 1930 + generator.nextIndex(below: 86)
            titles.append(SyntheticTitles.title(using: &generator) + " (\(year))")
            years.append(year)
        }
        genreMembers = Array(repeating: [], count: genreCount)
        for (item, list) in genres.enumerated() { genreMembers[Int(list[0])].append(Int32(item)) }
        // A genre with no primary items borrows the whole catalogue.
        let pop = popularity
        for genre in genreMembers.indices where genreMembers[genre].isEmpty {
            genreMembers[genre] = (0..<Int32(n)).map { $0 }
        }
        let members = genreMembers
        genreTables = members.map { list in AliasTable(weights: list.map { pop[Int($0)] }) }
    }
}

/// Users: favourite genres, factors, biases, activity, start time.
struct UserModel: Sendable {
    var favourites: [[Int32]]
    var factors: [Float]
    var biases: [Float]
    let activity: [Int]
    var startTimes: [Int64]

    init(preset: SyntheticPreset, items: ItemModel, seed: UInt64) {
        var generator = Xoshiro256(seed: seed)
        let n = preset.userCount
        let k = preset.factorCount
        let genreCount = SyntheticData.genreNames.count
        let scale = 0.9 / Double(k).squareRoot()
        favourites = []
        factors = []
        biases = []
        startTimes = []
        factors.reserveCapacity(n * k)
        var raw: [Double] = []
        raw.reserveCapacity(n)
        for _ in 0..<n {
            let count = 1 + generator.nextIndex(below: 3)
            var list: [Int32] = []
            while list.count < count {
                let genre = Int32(generator.nextIndex(below: genreCount))
                if !list.contains(genre) { list.append(genre) }
            }
            favourites.append(list)
            for f in 0..<k {
                var mix = 0.0
                for genre in list { mix += items.centroids[Int(genre)][f] }
                factors.append(Float(mix / Double(list.count) + SyntheticData.normal(using: &generator) * scale * 0.6))
            }
            biases.append(Float(SyntheticData.normal(using: &generator) * 0.35))
            raw.append(PortableMath.exp(1.1 * SyntheticData.normal(using: &generator)))
            startTimes.append(SyntheticData.baseTime + Int64(generator.nextIndex(below: 15 * 365 * 86_400)))
        }
        // Scale log-normal activities to the target total, above the minimum and below a cap.
        let minimum = preset.minimumPerUser
        let cap = max(minimum, preset.itemCount / 2)
        let spare = Double(max(0, preset.ratingCount - minimum * n))
        // Users at the cap give their excess to the others, in proportion, until the total is met.
        var capped = [Bool](repeating: false, count: n)
        var activity = [Int](repeating: minimum, count: n)
        var remaining = spare
        for _ in 0..<8 where remaining >= 1 {
            let openTotal = zip(raw, capped).reduce(0.0) { $0 + ($1.1 ? 0 : $1.0) }
            guard openTotal > 0 else { break }
            var given = 0.0
            for user in 0..<n where !capped[user] {
                let share = Int((raw[user] / openTotal * remaining).rounded())
                let room = cap - activity[user]
                let add = min(share, room)
                activity[user] += add
                given += Double(add)
                if activity[user] >= cap { capped[user] = true }
            }
            remaining -= given
            if given == 0 { break }
        }
        self.activity = activity
    }
}

/// Readable made-up titles.
enum SyntheticTitles {
    static let first = [
        "Silent", "Crimson", "Last", "Golden", "Hidden", "Broken", "Distant", "Electric", "Wild", "Secret", "Lonely",
        "Midnight", "Frozen", "Burning", "Little", "Endless", "Savage", "Gentle", "Iron", "Velvet", "Paper", "Hollow",
        "Northern", "Stolen",
    ]
    static let second = [
        "River", "Empire", "Garden", "Horizon", "Stranger", "Kingdom", "Promise", "Harbor", "Machine", "Summer",
        "Voyage",
        "Shadow", "Letter", "Island", "Detective", "Orchestra", "Frontier", "Mirror", "Circus", "Planet", "Season",
        "Witness", "Highway", "Lantern",
    ]

    static func title(using generator: inout some RandomNumberGenerator) -> String {
        let a = first[generator.nextIndex(below: first.count)]
        let b = second[generator.nextIndex(below: second.count)]
        switch generator.nextIndex(below: 4) {
        case 0: return "The \(a) \(b)"
        case 1: return "\(a) \(b)"
        case 2: return "\(b) of the \(a) \(second[generator.nextIndex(below: second.count)])"
        default: return "\(a) \(b) \(2 + generator.nextIndex(below: 3))"
        }
    }
}

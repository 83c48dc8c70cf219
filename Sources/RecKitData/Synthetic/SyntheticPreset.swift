/// Sizes of the built-in synthetic data sets.
public struct SyntheticPreset: Sendable, Equatable, Codable {
    public var name: String
    public var userCount: Int
    public var itemCount: Int
    /// Target number of ratings (the realised count is within a fraction of a percent).
    public var ratingCount: Int
    /// Every user has at least this many ratings.
    public var minimumPerUser: Int
    /// Dimensions of the true latent factors.
    public var factorCount: Int
    /// Extra implicit views per rating (views of items the user did not rate), e.g. 0.25.
    public var extraViewFraction: Double

    public init(
        name: String, userCount: Int, itemCount: Int, ratingCount: Int, minimumPerUser: Int = 5, factorCount: Int = 16,
        extraViewFraction: Double = 0.25
    ) {
        self.name = name
        self.userCount = userCount
        self.itemCount = itemCount
        self.ratingCount = ratingCount
        self.minimumPerUser = minimumPerUser
        self.factorCount = factorCount
        self.extraViewFraction = extraViewFraction
    }

    /// 300 users × 400 items, about 9,000 ratings: unit tests.
    public static let tiny = SyntheticPreset(
        name: "tiny", userCount: 300, itemCount: 400, ratingCount: 9_000, minimumPerUser: 5, factorCount: 8)
    /// MovieLens-100K shape: 943 × 1,682, 100,000 ratings.
    public static let small = SyntheticPreset(
        name: "small", userCount: 943, itemCount: 1_682, ratingCount: 100_000, minimumPerUser: 20)
    /// MovieLens-1M shape: 6,040 × 3,700, 1,000,000 ratings.
    public static let ml1mLike = SyntheticPreset(
        name: "ml-1m-like", userCount: 6_040, itemCount: 3_700, ratingCount: 1_000_000, minimumPerUser: 20)
    /// MovieLens-20M shape: 138,000 × 27,000, 20,000,000 ratings.
    public static let ml20mLike = SyntheticPreset(
        name: "ml-20m-like", userCount: 138_000, itemCount: 27_000, ratingCount: 20_000_000, minimumPerUser: 20)

    public static let all = [tiny, small, ml1mLike, ml20mLike]

    /// The preset called `name`, or nil.
    public static func named(_ name: String) -> SyntheticPreset? { all.first { $0.name == name } }
}

import Foundation
import RecKitTensor
import Testing

@testable import RecKitData

/// Feature columns: each kind fitted on the training part only and encoded by hand-checked rules.
@Suite struct FeatureTests {
    /// Four users, three items; user 3 and item 2 have no training interactions (held out).
    static let train = try! Interactions(
        users: [0, 0, 1, 1, 2], items: [0, 1, 0, 1, 0], ratings: [5, 3, 4, 2, 1],
        timestamps: [0, 3_600, 86_400 + 7_200, 2 * 86_400, 3 * 86_400], userCount: 4, itemCount: 3)
    static let side = SideData(
        items: ItemCatalog(
            titles: ["Toy Story (1995)", "Heat (1995)", "Up (2009)"], years: [1995, 1995, 2009],
            genres: MultiValuedColumn(lists: [["Animation", "Comedy"], ["Action"], ["Animation"]])),
        users: AttributeTable(columns: [
            ("age", ["20", "40", "30", "90"]), ("occupation", ["writer", "writer", "doctor", "pilot"]),
            ("zip", ["12345", "19999", "98765", "55555"]),
        ]))

    static func transform(_ spec: FeatureSpec) throws -> FeatureTransform {
        try FeatureTransform(
            fitting: spec, train: train, users: RawFeatureTable.users(train, side: side),
            items: RawFeatureTable.items(train, side: side))
    }

    /// Numeric columns are standardised with the training users' values only: user 3 (age 90, no
    /// training interactions) does not move the mean.
    @Test func numericUsesTrainingStatisticsOnly() throws {
        let fitted = try Self.transform(FeatureSpec(user: [FeatureColumnSpec("age", kind: .numeric)]))
        let column = fitted.columns[0]
        #expect(column.mean == 30)
        #expect(abs(column.deviation! - (200 / 3 as Float).squareRoot()) < 1e-5)
        let encoded = fitted.encode(RawFeatureTable.users(Self.train, side: Self.side), side: .user)
        #expect(abs(encoded.bag(row: 3, field: 0).weights.first! - 60 / column.deviation!) < 1e-4)
        // A missing value is the mean: weight 0.
        #expect(column.encode(.number(nil)).map(\.1) == [0])
    }

    /// A value never seen in training maps to the out-of-vocabulary bucket (the last index).
    @Test func unseenCategoricalValueIsOutOfVocabulary() throws {
        let fitted = try Self.transform(FeatureSpec(user: [FeatureColumnSpec("occupation", kind: .categorical)]))
        let column = fitted.columns[0]
        #expect(column.vocabulary == ["doctor", "writer"]) // pilot belongs to a user without training data
        #expect(column.encode(.strings(["writer"])).map(\.0) == [1])
        #expect(column.encode(.strings(["pilot"])).map(\.0) == [2])
        #expect(column.encode(.strings(["astronaut"])).map(\.0) == [2])
        #expect(column.isOutOfVocabulary("pilot") && !column.isOutOfVocabulary("doctor"))
        #expect(column.encode(.strings([])).isEmpty)
        let single = fitted.encode(values: ["occupation": .strings(["astronaut"])], side: .user)
        #expect(Array(single.bag(row: 0, field: 0).indices) == [2])
    }

    @Test func bucketizedHashedPrefixedAndMultivalent() throws {
        let fitted = try Self.transform(
            FeatureSpec(
                user: [
                    FeatureColumnSpec("age", kind: .bucketized, boundaries: [25, 35]),
                    FeatureColumnSpec("zip", kind: .hashed, buckets: 7, prefix: 1),
                    FeatureColumnSpec("area", source: "zip", kind: .categorical, prefix: 1),
                ],
                item: [FeatureColumnSpec("genres", kind: .multivalent, combiner: .sqrtn)]))
        let age = fitted.columns[0]
        #expect(age.size == 4)
        #expect(age.encode(.number(20)).map(\.0) == [0])
        #expect(age.encode(.number(25)).map(\.0) == [1]) // a boundary goes above it
        #expect(age.encode(.number(90)).map(\.0) == [2])
        #expect(age.encode(.number(nil)).map(\.0) == [3]) // missing
        let zip = fitted.columns[1]
        #expect(zip.offset == 4 && zip.size == 7)
        // FNV-1a of "1" is 0xaf63ac4c86019afc; mod 7 = 2, the same on every run.
        #expect(zip.encode(.strings(["19999"])).map(\.0) == [Int32(4 + Int(StableHash.fnv1a("1") % 7))])
        #expect(StableHash.fnv1a("1") == 0xaf63_ac4c_8601_9afc)
        #expect(fitted.columns[2].vocabulary == ["1", "9"])
        let genres = fitted.columns[3]
        #expect(genres.vocabulary == ["Action", "Animation", "Comedy"]) // Up's genres: no training interaction
        let encoded = genres.encode(.strings(["Animation", "Comedy"]))
        #expect(encoded.map(\.0) == [Int32(genres.offset + 1), Int32(genres.offset + 2)])
        #expect(encoded.allSatisfy { abs($0.1 - 1 / Float(2).squareRoot()) < 1e-6 })
    }

    @Test func quantileBoundariesComeFromTrainingValues() throws {
        let fitted = try Self.transform(
            FeatureSpec(item: [FeatureColumnSpec("freq", source: "rating_count", kind: .bucketized, quantiles: 2)]))
        // Training items' counts: 3 and 2 (item 2 has none): the median cut is 3.
        #expect(fitted.columns[0].boundaries == [3])
    }

    /// A cross of user occupation and item genres: one hashed feature per pair of values, weighted
    /// by the product of their weights, inside the cross's own range.
    @Test func crossedColumnsAndExampleBatches() throws {
        let fitted = try Self.transform(
            FeatureSpec(
                user: [FeatureColumnSpec("occupation", kind: .categorical)],
                item: [FeatureColumnSpec("genres", kind: .multivalent, combiner: .sqrtn)],
                context: [
                    FeatureColumnSpec("hour", kind: .categorical), FeatureColumnSpec("weekday", kind: .categorical),
                ],
                crossed: [CrossedColumnSpec("occupation_x_genres", columns: ["occupation", "genres"], buckets: 50)]))
        #expect(fitted.fieldCount == 5)
        let users = fitted.encode(RawFeatureTable.users(Self.train, side: Self.side), side: .user)
        let items = fitted.encode(RawFeatureTable.items(Self.train, side: Self.side), side: .item)
        let batch = fitted.batch(users: users, userRows: [0, 2], items: items, itemRows: [0, 1], times: [3_600, nil])
        #expect(batch.exampleCount == 2 && batch.offsets.count == 11)
        func bag(_ example: Int, _ field: Int) -> [(Int32, Float)] {
            let range = batch.offsets[example * 5 + field]..<batch.offsets[example * 5 + field + 1]
            return range.map { (batch.indices[$0], batch.weights[$0]) }
        }
        // Example 0: writer × {Animation, Comedy} → two cross features of weight 1/√2, at hour 1 on a Thursday.
        let cross = bag(0, 4)
        #expect(cross.count == 2 && cross.allSatisfy { $0.1 == 1 / Float(2).squareRoot() })
        #expect(cross.allSatisfy { Int($0.0) >= fitted.columns[4].offset && Int($0.0) < fitted.featureCount })
        let hour = fitted.columns[2]
        #expect(bag(0, 2).map(\.0) == [Int32(hour.offset + hour.vocabularyIndex("1"))])
        #expect(bag(0, 3).map(\.0) == [Int32(fitted.columns[3].offset + fitted.columns[3].vocabularyIndex("4"))])
        // Example 1 has no time: no hour or weekday feature.
        #expect(bag(1, 2).isEmpty && bag(1, 3).isEmpty)
        // Selecting fields keeps their bags in order.
        let selected = batch.selecting(fields: [0, 1])
        #expect(
            selected.fieldCount == 2
                && selected.indices == [bag(0, 0), bag(0, 1), bag(1, 0), bag(1, 1)].flatMap { $0.map(\.0) })
    }

    /// Training examples see their user's and item's mean rating out of fold: against a direct
    /// computation over the other folds' rows, never including the row's own rating.
    @Test func outOfFoldMeansLeaveTheRowsFoldOut() throws {
        let generated = SyntheticData.generate(preset: .tiny, seed: 3).ratings.interactions
        let means = try #require(RawFeatureTable.outOfFoldMeans(generated, folds: 5))
        let fold = (0..<generated.count).map { row in
            var hash = SplitMix64(seed: UInt64(row))
            return Int(hash.next() % 5)
        }
        let ratings = generated.ratings!
        func direct(_ row: Int, _ entities: [Int32]) -> Float? {
            let others = (0..<generated.count).filter { entities[$0] == entities[row] && fold[$0] != fold[row] }
            return others.isEmpty ? nil : Float(others.map { Double(ratings[$0]) }.reduce(0, +) / Double(others.count))
        }
        for row in stride(from: 0, to: generated.count, by: 97) {
            let (user, item) = (direct(row, generated.users), direct(row, generated.items))
            #expect(means[row].user.map { abs($0 - user!) < 1e-4 } ?? (user == nil))
            #expect(means[row].item.map { abs($0 - item!) < 1e-4 } ?? (item == nil))
        }
        #expect(Set(fold).count == 5)
        let unrated = try Interactions(users: [0, 1], items: [1, 0], userCount: 2, itemCount: 2)
        #expect(RawFeatureTable.outOfFoldMeans(unrated) == nil)

        // A given mean replaces the entity's own in a batch; an example without one keeps it.
        let fitted = try Self.transform(
            FeatureSpec(user: [FeatureColumnSpec("mean", source: "rating_mean", kind: .numeric)]))
        let users = fitted.encode(RawFeatureTable.users(Self.train, side: Self.side), side: .user)
        let items = fitted.encode(RawFeatureTable.items(Self.train, side: Self.side), side: .item)
        let column = fitted.columns[0]
        let batch = fitted.batch(
            users: users, userRows: [0, 0, 0], items: items, itemRows: [0, 2, 1],
            means: [RatingMeans(user: 3, item: nil), nil, RatingMeans(user: nil, item: 2)])
        // Example 0 reads 3; example 1 user 0's own mean of 4; example 2 a missing mean (weight 0).
        #expect(batch.weights == [(3 - column.mean!) / column.deviation!, (4 - column.mean!) / column.deviation!, 0])
    }

    /// A user or item "as new" hides the ID, history and aggregates and keeps its attributes; an
    /// entity without training interactions has missing aggregates (the training mean), not a count of 0.
    @Test func entitiesAsNewKeepOnlyTheirAttributes() throws {
        let fitted = try Self.transform(
            FeatureSpec(user: [
                FeatureColumnSpec("user_id", source: "id", kind: .categorical),
                FeatureColumnSpec("occupation", kind: .categorical),
                FeatureColumnSpec("count", source: "rating_count", kind: .numeric),
                FeatureColumnSpec("history", kind: .multivalent),
            ]))
        let table = RawFeatureTable.users(Self.train, side: Self.side)
        let known = fitted.encode(table, side: .user)
        let new = fitted.encode(table, side: .user, asNew: true)
        for user in 0..<4 {
            #expect(new.bag(row: user, field: 0).indices.isEmpty)
            #expect(Array(new.bag(row: user, field: 1).indices) == Array(known.bag(row: user, field: 1).indices))
            #expect(Array(new.bag(row: user, field: 2).weights) == [0])
            #expect(new.bag(row: user, field: 3).indices.isEmpty)
        }
        // User 3 has no training interactions: known or new, it looks the same.
        for field in 0..<4 { #expect(known.bag(row: 3, field: field) == new.bag(row: 3, field: field)) }
        #expect(fitted.requestSources(.user) == ["occupation"])

        let both = known.appending(new)
        #expect(both.count == 8)
        for field in 0..<4 {
            #expect(both.bag(row: 1, field: field) == known.bag(row: 1, field: field))
            #expect(both.bag(row: 5, field: field) == new.bag(row: 1, field: field))
        }
    }

    /// The transform survives JSON (what a model directory keeps) and encodes identically after.
    @Test func transformRoundTripsThroughJSON() throws {
        let users = RawFeatureTable.users(Self.train, side: Self.side)
        let items = RawFeatureTable.items(Self.train, side: Self.side)
        let spec = FeatureSpec.default(users: users, items: items)
        #expect(
            spec.user.map(\.name) == ["user_id", "age", "occupation", "zip", "user_rating_freq", "user_rating_mean"])
        #expect(spec.item.map(\.name) == ["item_id", "genres", "year", "decade", "freq_rating", "avg_rating"])
        #expect(spec.crossed.map(\.name) == ["age_x_genres"])
        let fitted = try FeatureTransform(fitting: spec, train: Self.train, users: users, items: items)
        let decoded = try JSONDecoder().decode(FeatureTransform.self, from: try JSONEncoder().encode(fitted))
        #expect(decoded == fitted)
        #expect(decoded.encode(items, side: .item) == fitted.encode(items, side: .item))
    }

    @Test func invalidSpecsNameTheField() {
        func problem(_ spec: FeatureSpec) -> String? {
            do { try spec.validate() } catch { return error.path }
            return nil
        }
        #expect(problem(FeatureSpec(user: [FeatureColumnSpec("age", kind: .bucketized)])) == "user[0]")
        #expect(
            problem(FeatureSpec(item: [FeatureColumnSpec("y", kind: .bucketized, boundaries: [3, 1])]))
                == "item[0].boundaries")
        #expect(problem(FeatureSpec(user: [FeatureColumnSpec("g", kind: .numeric, buckets: 3)])) == "user[0].buckets")
        #expect(problem(FeatureSpec(context: [FeatureColumnSpec("month", kind: .categorical)])) == "context[0].source")
        #expect(
            problem(
                FeatureSpec(
                    user: [FeatureColumnSpec("a", kind: .numeric)],
                    crossed: [CrossedColumnSpec("x", columns: ["a", "a"], buckets: 4)]))
                == "crossed[0].columns")
        #expect(
            problem(
                FeatureSpec(user: [
                    FeatureColumnSpec("a", kind: .categorical), FeatureColumnSpec("a", kind: .categorical),
                ]))
                == "user[1].name")
        // A source the data lacks is reported when fitting.
        #expect(throws: FeatureSpecError.self) {
            try Self.transform(FeatureSpec(user: [FeatureColumnSpec("income", kind: .numeric)]))
        }
    }

    /// A split folder's IDs get the data set's side data by raw ID.
    @Test func sideDataAlignsToOtherIDMaps() throws {
        var dataset = Dataset(
            name: "d", format: .delimited, interactions: Self.train, users: try IDMap(ids: ["a", "b", "c", "d"]),
            items: try IDMap(ids: ["x", "y", "z"]), itemCatalog: Self.side.items, userAttributes: Self.side.users)
        dataset.name = "d"
        let side = dataset.side(alignedTo: try IDMap(ids: ["c", "a", "new"]), items: try IDMap(ids: ["z", "x"]))
        #expect(side.users?.columns["occupation"] == ["doctor", "writer", nil])
        #expect(side.items?.titles == ["Up (2009)", "Toy Story (1995)"])
        #expect(side.items?.genres?.values(of: 1) == ["Animation", "Comedy"])
    }
}

import Foundation
import RecKitData
import RecKitTensor

/// Items as sparse content vectors — every metadata feature (title words, genres, tags, decade) at
/// its encoded weight times its inverse document frequency over the items with interactions, each row
/// L2-normalised — and, for an item without interactions, a vector from the `k` items with
/// interactions most alike by cosine: the nearest-neighbour attribute-to-factor mapping of Gantner
/// et al. (2010), "Learning Attribute-to-Feature Mappings for Cold-Start Recommendations".
struct ContentNeighbours: Sendable {
    /// Each feature's log(1 + n / (1 + df)) over the n items with interactions.
    let idf: [Float]
    /// The items with interactions, in index order.
    let items: [Int32]
    /// Their normalised rows (row r is `items[r]`'s), over the features.
    let rows: InteractionMatrix
    /// For each feature, the rows holding it and their values.
    private let postings: [[(row: Int32, value: Float)]]

    /// The rows of `warm` items of `inputs`, over `featureCount` features.
    init(inputs: ContentInputs, warm: [Int], featureCount: Int) {
        var counts = [Int](repeating: 0, count: featureCount)
        for item in warm {
            for field in inputs.fields { for feature in Set(field[item].indices) { counts[Int(feature)] += 1 } }
        }
        let n = Float(warm.count)
        let idf = counts.map { Foundation.log(1 + n / Float(1 + $0)) }
        var offsets = [0]
        var features: [Int32] = []
        var values: [Float] = []
        for item in warm {
            let row = Self.row(inputs, item: item, idf: idf)
            features += row.features
            values += row.values
            offsets.append(features.count)
        }
        let rows = try! InteractionMatrix( // the features are the transform's, all below featureCount
            rowCount: warm.count, columnCount: featureCount, rowOffsets: offsets, columnIndices: features,
            values: values)
        self.init(idf: idf, items: warm.map(Int32.init), rows: rows)
    }

    /// Saved rows.
    init(idf: [Float], items: [Int32], rows: InteractionMatrix) {
        precondition(rows.rowCount == items.count && rows.columnCount == idf.count, "rows do not match the items")
        self.idf = idf
        self.items = items
        self.rows = rows
        var postings = [[(row: Int32, value: Float)]](repeating: [], count: idf.count)
        for row in 0..<items.count {
            for position in rows.rowOffsets[row]..<rows.rowOffsets[row + 1] {
                postings[Int(rows.columnIndices[position])].append((Int32(row), rows.values[position]))
            }
        }
        self.postings = postings
    }

    /// One item's weighted, normalised row (features ascending).
    static func row(_ inputs: ContentInputs, item: Int, idf: [Float]) -> (features: [Int32], values: [Float]) {
        var pairs: [(Int32, Float)] = []
        for field in inputs.fields {
            let bag = field[item]
            for (feature, weight) in zip(bag.indices, bag.weights) where Int(feature) < idf.count {
                pairs.append((feature, weight * idf[Int(feature)]))
            }
        }
        pairs.sort { $0.0 < $1.0 }
        let norm = pairs.reduce(Float(0)) { $0 + $1.1 * $1.1 }.squareRoot()
        return (pairs.map(\.0), pairs.map { norm > 0 ? $0.1 / norm : 0 })
    }

    /// The `k` rows most alike `row` by cosine (positive only), best first, ties to the lower row;
    /// `excluding` leaves one item out.
    func nearest(_ row: (features: [Int32], values: [Float]), k: Int, excluding: Int32? = nil) -> [ScoredIndex] {
        var scores = [Float](repeating: 0, count: items.count)
        var touched: [Int32] = []
        for (feature, value) in zip(row.features, row.values) {
            for posting in postings[Int(feature)] {
                if scores[Int(posting.row)] == 0 { touched.append(posting.row) }
                scores[Int(posting.row)] += value * posting.value
            }
        }
        let candidates = touched.map { ScoredIndex(index: $0, score: scores[Int($0)]) }.filter {
            $0.score > 0 && items[Int($0.index)] != excluding
        }
        return Array(
            candidates.sorted { $0.score != $1.score ? $0.score > $1.score : $0.index < $1.index }.prefix(k))
    }

    /// For each of `items` of `inputs`: the similarity-weighted mean of its `k` nearest rows' `targets`
    /// (indexed by item) — or of every row's when nothing is alike — and the best similarity, in the
    /// order given. `leavingOut` keeps each item from its own neighbours.
    func summaries(_ inputs: ContentInputs, items chosen: [Int], targets: Tensor, k: Int, leavingOut: Bool = false)
        -> NeighbourSummaries
    {
        let width = targets.shape[1]
        var mean = [Float](repeating: 0, count: width)
        for item in items { for j in 0..<width { mean[j] += targets.scalars[Int(item) * width + j] } }
        mean = mean.map { $0 / Float(max(1, items.count)) }
        var values: [Float] = []
        values.reserveCapacity(chosen.count * (width + 1))
        for item in chosen {
            let neighbours = nearest(
                Self.row(inputs, item: item, idf: idf), k: k, excluding: leavingOut ? Int32(item) : nil)
            let total = neighbours.reduce(Float(0)) { $0 + $1.score }
            guard total > 0 else {
                values += mean + [0]
                continue
            }
            var vector = [Float](repeating: 0, count: width)
            for neighbour in neighbours {
                let base = Int(items[Int(neighbour.index)]) * width
                for j in 0..<width { vector[j] += neighbour.score / total * targets.scalars[base + j] }
            }
            values += vector + [neighbours[0].score]
        }
        return NeighbourSummaries(width: width, values: values)
    }
}

/// Per item, its nearest items' mean vector and their best similarity: rows of `width + 1`.
struct NeighbourSummaries: Sendable {
    let width: Int
    private(set) var values: [Float]

    init(width: Int, values: [Float]) {
        self.width = width
        self.values = values
    }

    var count: Int { values.count / (width + 1) }

    /// Rows `rows` as a `[rows.count, width + 1]` tensor.
    func rows(_ rows: [Int]) -> Tensor {
        Tensor(
            shape: [rows.count, width + 1],
            scalars: rows.flatMap { values[($0 * (width + 1))..<(($0 + 1) * (width + 1))] })
    }

    /// The mean vectors alone, `[count, width]`.
    func vectors() -> Tensor {
        Tensor(
            shape: [count, width],
            scalars: (0..<count).flatMap { values[($0 * (width + 1))..<($0 * (width + 1) + width)] })
    }

    /// These rows (one per `items` entry) placed at `items` in a table of `count` rows (zeros elsewhere).
    func scattered(to items: [Int], count: Int) -> NeighbourSummaries {
        var table = [Float](repeating: 0, count: count * (width + 1))
        for (row, item) in items.enumerated() {
            table.replaceSubrange(
                (item * (width + 1))..<((item + 1) * (width + 1)),
                with: values[(row * (width + 1))..<((row + 1) * (width + 1))])
        }
        return NeighbourSummaries(width: width, values: table)
    }

    /// The mean vectors multiplied by `factor` (similarities unchanged).
    func scalingVectors(by factor: Float) -> NeighbourSummaries {
        var scaled = values
        for index in scaled.indices where index % (width + 1) != width { scaled[index] *= factor }
        return NeighbourSummaries(width: width, values: scaled)
    }
}

import ArgumentParser
import Foundation
import RecKit

struct ANNBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ann",
        abstract:
            "Approximate maximum-inner-product search (IVF-flat or HNSW) against exact scoring, single thread: iALS "
            + "item vectors of a synthetic preset replicated with noise to --items vectors, its user vectors as "
            + "queries; recall@k and queries per second for each --probes (ivf) or --ef (hnsw)."
    )

    @Option var preset = "ml-20m-like"
    @Option var factors = 64
    @Option(help: "iALS iterations for the vectors.") var iterations = 5
    @Option(help: "Vectors indexed: the preset's items, then noisy copies of them.") var items = 1_000_000
    @Option(help: "Noise of a copy, as a fraction of the item vectors' per-coordinate spread.") var noise = 0.3
    @Option var queries = 500
    @Option var k = 10
    @Option var neighbors = 32
    @Option var construction = 200
    @Option(help: "ivf (an inverted file of k-means cells) or hnsw (an inner-product graph).") var index = "ivf"
    @Option(help: "IVF: k-means cells.") var lists = 1024
    @Option(help: "IVF: comma-separated numbers of cells a query scans.") var probes = "4,8,16,32,64"
    @Option(help: "HNSW: comma-separated search widths.") var ef = "32,64,128,256"
    @Option(help: "ials (the preset's iALS vectors) or random (Gaussian vectors and queries, a control).")
    var vectors = "ials"

    func run() throws {
        guard let preset = SyntheticPreset.named(preset) else { throw ValidationError("no preset \(preset)") }
        let data = SyntheticData.generate(preset: preset, seed: 42)
        let configured = try ConfiguredModel(
            "ials", settings: ["factors": String(factors), "iterations": String(iterations), "threads": "2"])
        guard let model = try configured.fit(data.events.deduplicated(.keepLast)) as? ImplicitALS else {
            throw ValidationError("ials did not train")
        }
        let base = model.factors.itemFactors
        let spread =
            (base.scalars.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(max(1, base.scalarCount))).squareRoot()
        var generator = Xoshiro256(seed: 7)
        var scalars = base.scalars
        scalars.reserveCapacity(items * factors)
        while scalars.count < items * factors {
            let row = generator.nextIndex(below: base.shape[0])
            for j in 0..<factors {
                scalars.append(base.scalars[row * factors + j] + Float(noise * spread) * generator.nextStandardNormal())
            }
        }
        if self.vectors == "random" { scalars = (0..<(items * factors)).map { _ in generator.nextStandardNormal() } }
        let vectors = Tensor(shape: [items, factors], scalars: Array(scalars.prefix(items * factors)))
        var users = model.factors.userFactors
        if self.vectors == "random" {
            users = Tensor(shape: users.shape, scalars: users.scalars.map { _ in generator.nextStandardNormal() })
        }
        let queryRows = (0..<queries).map { _ in generator.nextIndex(below: users.shape[0]) }
        let queryVectors = queryRows.map { Array(users.scalars[($0 * factors)..<(($0 + 1) * factors)]) }

        // Exact: one matrix-vector product and a top-k per query, one thread.
        var exact: [[Int32]] = []
        let exactSeconds = time {
            exact = queryVectors.map { query in
                Tensor(shape: [1, factors], scalars: query).matmul(vectors, transposingOther: true)
                    .topKPerRow(k, threadCount: 1)[0].map(\.index)
            }
        }
        guard ["ivf", "hnsw"].contains(self.index) else { throw ValidationError("--index takes ivf or hnsw") }
        var graph: HNSWIndex?
        var inverted: IVFIndex?
        let buildSeconds = time {
            if self.index == "ivf" {
                inverted = IVFIndex(vectors: vectors, lists: lists, seed: 1)
            } else {
                graph = HNSWIndex(vectors: vectors, neighbors: neighbors, construction: construction, seed: 1)
            }
        }
        let searcher = graph?.searcher()
        var rows: [[String: Any]] = []
        let widths = (self.index == "ivf" ? probes : ef).split(separator: ",").compactMap { Int($0) }
        for width in widths {
            var found: [[Int32]] = []
            let seconds = time {
                found = queryVectors.map { query in
                    if let inverted { return inverted.search(query, k: k, probes: width).map(\.index) }
                    return graph!.search(query, k: k, ef: width, using: searcher!).map(\.index)
                }
            }
            let hits = zip(found, exact).reduce(0) { $0 + Set($1.0).intersection($1.1).count }
            rows.append([
                (self.index == "ivf" ? "probes" : "ef"): width, "recall": Double(hits) / Double(queries * k),
                "queries_per_second": Double(queries) / seconds,
                "speedup": exactSeconds / seconds,
            ])
        }
        emit([
            "benchmark": "ann_\(self.index)", "preset": preset.name, "items": items, "factors": factors, "k": k,
            "queries": queries, "build_seconds": buildSeconds,
            "settings": self.index == "ivf"
                ? ["lists": lists] : ["neighbors": neighbors, "construction": construction],
            "exact_queries_per_second": Double(queries) / exactSeconds, "results": rows,
        ])
    }
}

import ArgumentParser
import Foundation
import RecKit

@main
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reckit-bench",
        abstract: "RecKit benchmarks; each prints JSON lines with raw times and ratios to a reference measured in the same run.",
        subcommands: [ParseBenchmark.self, SynthBenchmark.self, TopKBenchmark.self, FitBenchmark.self, NNBenchmark.self]
    )
}

/// Machine facts logged with every result.
func environment() -> [String: Any] {
    [
        "cpus": ProcessInfo.processInfo.activeProcessorCount,
        "threads": Parallel.defaultThreadCount,
        "os": ProcessInfo.processInfo.operatingSystemVersionString,
        "reckit": RecKitVersion.current,
    ]
}

func emit(_ object: [String: Any]) {
    var merged = object
    merged["environment"] = environment()
    let data = try! JSONSerialization.data(withJSONObject: merged, options: [.sortedKeys])
    print(String(decoding: data, as: UTF8.self))
}

/// Peak resident set size of this process in bytes.
func peakRSS() -> Int {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Int(usage.ru_maxrss) * 1024
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

func time(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

/// Runs a command and returns its standard output.
func runProcess(_ executable: String, _ arguments: [String]) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw ValidationError("\(executable) \(arguments.joined(separator: " ")) exited with \(process.terminationStatus)")
    }
    return String(decoding: data, as: UTF8.self)
}

struct SynthBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "synth", abstract: "Time generating and writing a synthetic preset.")
    @Option var preset = "ml-20m-like"
    @Option var seed: UInt64 = 42
    @Option var out: String
    @Option var repeats = 1

    func run() throws {
        guard let preset = SyntheticPreset.named(preset) else { throw ValidationError("unknown preset") }
        var generate: [Double] = [], write: [Double] = []
        for _ in 0..<repeats {
            var data: SyntheticData?
            generate.append(time { data = SyntheticData.generate(preset: preset, seed: seed) })
            write.append(try time { try data!.write(to: out) })
        }
        emit([
            "benchmark": "synth", "preset": preset.name, "generate_seconds": median(generate), "write_seconds": median(write),
            "total_seconds": median(zip(generate, write).map { $0 + $1 }), "target_seconds": 10,
        ])
    }
}

struct ParseBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parse",
        abstract: "Parse a ratings CSV into Interactions + CSR; compare with pandas.read_csv on the same file in the same run.")

    @Option(help: "The CSV file (e.g. ratings.csv of `reckit data synth --preset ml-20m-like`).") var file: String
    @Option(help: "Repetitions; the median is reported.") var repeats = 3
    @Option(help: "Python with pandas for the reference; empty to skip.") var python = "python3"

    func run() throws {
        let bytes = try LineReader_size(file)
        // Ours and pandas alternate, one run each per repeat, so that a noisy neighbour slows both.
        var seconds: [Double] = [], loadTimes: [Double] = [], pandasTimes: [Double] = []
        var rows = 0, finalBytes = 0, pandasRows = 0, pandasVersion = ""
        let script = """
            import sys, time, pandas
            t = time.perf_counter(); frame = pandas.read_csv(sys.argv[1]); t = time.perf_counter() - t
            print(t, len(frame), pandas.__version__)
            """
        for _ in 0..<repeats {
            var loaded: LoadedInteractions?
            var matrix: InteractionMatrix?
            let loadSeconds = try time { loaded = try InteractionFileLoader.load(file) }
            let csrSeconds = time { matrix = InteractionMatrix.byUser(loaded!.interactions) }
            seconds.append(loadSeconds + csrSeconds)
            loadTimes.append(loadSeconds)
            let data = loaded!.interactions
            rows = data.count
            // Distinct storage only: the CSR shares its arrays with the columns when rows arrive in order.
            let m = matrix!
            let sharesColumns = m.columnIndices.withUnsafeBufferPointer { a in data.items.withUnsafeBufferPointer { $0.baseAddress == a.baseAddress } }
            let sharesValues = m.values.withUnsafeBufferPointer { a in (data.weights ?? data.ratings ?? []).withUnsafeBufferPointer { $0.baseAddress == a.baseAddress } }
            finalBytes = data.count * (4 + 4) + (data.ratings?.count ?? 0) * 4 + (data.timestamps?.count ?? 0) * 8
                + (data.weights?.count ?? 0) * 4 + m.rowOffsets.count * 8
                + (sharesColumns ? 0 : m.columnIndices.count * 4) + (sharesValues ? 0 : m.values.count * 4)
            loaded = nil
            matrix = nil
            if !python.isEmpty {
                let output = try runProcess("/usr/bin/env", [python, "-c", script, file])
                    .split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init)
                if output.count == 3, let pandasSeconds = Double(output[0]) {
                    pandasTimes.append(pandasSeconds)
                    pandasRows = Int(output[1]) ?? -1
                    pandasVersion = output[2]
                }
            }
        }
        let peak = peakRSS()      // this process only: pandas runs in a child
        let ours = median(seconds)
        var result: [String: Any] = [
            "benchmark": "parse_csv_to_interactions_and_csr", "file": (file as NSString).lastPathComponent, "bytes": bytes,
            "rows": rows, "seconds": ours, "mb_per_s": Double(bytes) / 1e6 / ours, "rows_per_s": Double(rows) / ours,
            "peak_rss_bytes": peak, "final_array_bytes": finalBytes, "peak_over_final": Double(peak) / Double(finalBytes),
            "repeats": repeats, "load_seconds": median(loadTimes), "csr_seconds": ours - median(loadTimes),
            "all_seconds": seconds,
        ]
        if !pandasTimes.isEmpty {
            result["pandas_seconds"] = median(pandasTimes)
            result["pandas_all_seconds"] = pandasTimes
            result["pandas_rows"] = pandasRows
            result["pandas_version"] = pandasVersion
            result["speedup_vs_pandas"] = median(pandasTimes) / ours
        }
        emit(result)
    }

    func LineReader_size(_ path: String) throws -> Int {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
            let size = (attributes[.size] as? NSNumber)?.intValue
        else { throw ValidationError("cannot read \(path)") }
        return size
    }
}

struct TopKBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topk",
        abstract: "Full-ranking top-k for every user from random factors (one GEMM per batch + heap selection), excluding each user's items of the ml-20m-like synthetic set; compared with implicit's topk in the same run.")

    @Option var users = 138_000
    @Option var items = 27_000
    @Option var factors = 64
    @Option var k = 10
    @Option(help: "Users per batch (256: the scores stay reusable in the allocator's heap).") var batch = 256
    @Option(help: "Exclude each user's items of this synthetic preset (its users/items must match the shape); 'none' to skip.")
    var seen = "ml-20m-like"
    @Option(help: "Python with implicit for the reference (e.g. a venv from ../shared/peers/install.sh); empty to skip.")
    var python = ""
    @Option(help: "Path of ../shared/peers/bench_topk.py.") var peerScript = "../shared/peers/bench_topk.py"
    @Option var repeats = 3

    func run() throws {
        var generator = Xoshiro256(seed: 42)
        let userFactors = Tensor(shape: [users, factors], scalars: (0..<(users * factors)).map { _ in (generator.nextUnitFloat() - 0.5) * 0.3 })
        let itemFactors = Tensor(shape: [items, factors], scalars: (0..<(items * factors)).map { _ in (generator.nextUnitFloat() - 0.5) * 0.3 })
        let model = FactorModel(userFactors: userFactors, itemFactors: itemFactors)
        var matrix: InteractionMatrix?
        if seen != "none" {
            guard let preset = SyntheticPreset.named(seen), preset.userCount == users, preset.itemCount == items else {
                throw ValidationError("--seen \(seen) does not match \(users) users × \(items) items")
            }
            matrix = SyntheticData.generate(preset: preset, seed: 42).ratings.userItemMatrix()
        }
        var times: [Double] = []
        var checksum = 0
        for _ in 0..<repeats {
            checksum = 0
            times.append(time {
                var start = 0
                while start < users {
                    let batchUsers = (start..<min(users, start + batch)).map { Int32($0) }
                    let scores = model.scores(forUsers: batchUsers)
                    let excluded = matrix.map { m in batchUsers.map { Array(m.columns(inRow: Int($0))) } } ?? []
                    let lists = scores.topKPerRow(k, excluding: excluded)
                    checksum &+= lists.reduce(0) { $0 &+ Int($1.first?.index ?? 0) }
                    start += batch
                }
            })
        }
        let ours = median(times)
        var result: [String: Any] = [
            "benchmark": "topk_full_ranking", "users": users, "items": items, "factors": factors, "k": k,
            "excluded_seen": matrix != nil, "excluded_interactions": matrix?.nonzeroCount ?? 0, "seconds": ours,
            "users_per_second": Double(users) / ours, "all_seconds": times, "checksum": checksum,
        ]
        if !python.isEmpty {
            var arguments = [python, peerScript, "--users", String(users), "--items", String(items), "--factors", String(factors), "--k", String(k)]
            if let matrix {
                // The same exclusions for implicit: dense user,item pairs.
                let path = NSTemporaryDirectory() + "reckit-topk-seen.csv"
                var text = ""
                text.reserveCapacity(matrix.nonzeroCount * 12)
                for row in 0..<matrix.rowCount { for column in matrix.columns(inRow: row) { text += "\(row),\(column)\n" } }
                try AtomicFile.write(text, to: path)
                arguments += ["--seen", path]
            }
            let output = try runProcess("/usr/bin/env", arguments)
            if let line = output.split(separator: "\n").last,
                let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                let seconds = object["seconds"] as? Double
            {
                result["implicit_seconds"] = seconds
                result["implicit_users_per_second"] = object["users_per_second"]
                result["implicit_excluded_seen"] = object["excluded_seen"]
                result["implicit_version"] = object["library_version"]
                result["speedup_vs_implicit"] = seconds / ours
            }
        }
        emit(result)
    }
}

struct FitBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fit",
        abstract: "Seconds per iteration (epoch) of ials, bpr or svd on a synthetic preset; compare with ../shared/peers/synthetic.py on the same file.")

    @Option(help: "ials, bpr, itemknn, svd or svdpp.") var model = "ials"
    @Option(help: "A synthetic preset (svd and svdpp: their explicit ratings, e.g. ml-1m-like).") var preset = "ml-20m-like"
    @Option(help: "Iterations (epochs) to time.") var iterations = 3
    @Option(help: "Extra --set style settings, comma-separated key=value.") var settings = ""
    @Option var threads = Parallel.defaultThreadCount
    @Option(help: "ratings (ratings.csv's pairs, as the peers' --implicit-file reads them) or events.") var source = "ratings"
    @Option(help: "svd/svdpp: train on this many random training ratings (0: all), as the peers' --svdpp-subset.") var subset = 0

    func run() throws {
        guard let preset = SyntheticPreset.named(preset), let kind = ModelKind(rawValue: model) else { throw ValidationError("unknown preset or model") }
        let data = SyntheticData.generate(preset: preset, seed: 42)
        let explicit = kind == .svd || kind == .svdpp
        // Rating models: a seeded random 90/10 split of the ratings, RMSE on the 10 % (the peers'
        // protocol; their split of the same file differs only by the random draw).
        let split = explicit ? try data.ratings.split(.random(testFraction: 0.1), seed: 42) : nil
        var train = split?.train ?? (source == "ratings" ? data.ratings.interactions : data.events.deduplicated(.keepLast))
        if explicit && subset > 0 && subset < train.count {
            var rows = Array(0..<train.count)
            var generator = SplitMix64(seed: 44)
            generator.shuffle(&rows)
            var keep = [Bool](repeating: false, count: train.count)
            for row in rows.prefix(subset) { keep[row] = true }
            train = train.filteringRows { keep[$0] }
        }
        // The bench's defaults (the peers' settings), then --settings; every key goes through the
        // model's own reader, so a misspelt one is an error rather than silently ignored.
        var values: [String: String] = ["threads": String(threads)]
        switch kind {
        case .ials: values.merge(["alpha": "40", "iterations": String(iterations)]) { $1 }
        case .bpr, .svd, .svdpp: values["epochs"] = String(iterations)
        case .itemknn: values["k"] = "20"
        default: throw ValidationError("fit times ials, bpr, itemknn, svd and svdpp")
        }
        if kind == .ials || kind == .itemknn || kind == .svdpp {
            // No `threads` setting: iALS and item-KNN use the worker threads (RECKIT_THREADS caps them), SVD++ one.
            values["threads"] = nil
            if kind != .svdpp && threads != Parallel.defaultThreadCount {
                throw ValidationError("\(kind.rawValue) runs on all worker threads; set RECKIT_THREADS=\(threads) instead of --threads")
            }
        }
        for pair in settings.split(separator: ",") where !pair.isEmpty {
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw ValidationError("--settings takes key=value pairs, not '\(pair)'") }
            values[parts[0]] = parts[1]
        }
        do { try kind.validate(values) } catch { throw ValidationError(error.description) }
        var perIteration: [Double] = []
        var last = DispatchTime.now().uptimeNanoseconds
        let tick: (TrainingUpdate) -> Void = { _ in
            let now = DispatchTime.now().uptimeNanoseconds
            perIteration.append(Double(now - last) / 1e9)
            last = now
        }
        var predictor: (any RatingPredictor)?
        let total = try time {
            let model = try kind.fit(train, settings: values, progress: tick)
            if kind == .itemknn { tick(TrainingUpdate(step: 1, total: 1)) }
            predictor = model as? any RatingPredictor
        }
        var rmse: Double?
        if let predictor, let test = split?.test, let targets = test.ratings {
            let predictions = predictor.predict(users: test.users, items: test.items)
            rmse = (zip(predictions, targets).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) } / Double(targets.count)).squareRoot()
        }
        emit([
            "benchmark": "fit", "model": model, "preset": preset.name, "interactions": train.count, "users": train.userCount,
            "items": train.itemCount, "iterations": iterations, "seconds": total, "seconds_per_iteration": perIteration,
            "median_seconds_per_iteration": median(perIteration), "threads": threads, "rmse": rmse.map { $0 as Any } ?? NSNull(),
        ])
    }
}

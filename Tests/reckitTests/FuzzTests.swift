import Foundation
import Testing
import _RecKitTestSupport

@testable import RecKit
@testable import reckit

/// A seeded mutation fuzzer over every reader: interaction files (with several loader options), the
/// MovieLens, HetRec, session and synthetic folders, split folders, YAML settings and suites, model
/// directories, checkpoints and safetensors. Each input is a seed file mutated (truncated, bytes
/// flipped, huge / negative / non-finite numbers, empty fields, a BOM, CRLF, stray quotes, very long
/// lines and fields, duplicated headers, deep YAML nesting). The property: the reader returns or
/// throws, it never crashes or hangs (a watchdog aborts after 5 s on one input), and an error about a
/// file names it. `make test` runs a bounded pass; `make fuzz` sets `RECKIT_FUZZ_INPUTS` (a million).
/// The input being read is always on disk in the printed folder, so a crash leaves its reproducer.
@Suite struct FuzzTests {
    static var inputCount: Int {
        ProcessInfo.processInfo.environment["RECKIT_FUZZ_INPUTS"].flatMap(Int.init) ?? 6_000
    }

    @Test func readersNeverCrashOrHang() throws {
        let fuzzer = try Fuzzer(seed: ProcessInfo.processInfo.environment["RECKIT_FUZZ_SEED"].flatMap(UInt64.init) ?? 1)
        let report = try fuzzer.run(inputs: Self.inputCount)
        print("fuzz: \(report)")
        #expect(report.unnamedErrors.isEmpty, "errors that do not name their file: \(report.unnamedErrors.prefix(5))")
        #expect(report.inputs >= Self.inputCount)
    }
}

/// What a run did: inputs read, how many loaded and how many threw, and errors that failed to name
/// their file (target: message).
struct FuzzReport: CustomStringConvertible {
    var inputs = 0
    var loaded = 0
    var threw = 0
    var seconds = 0.0
    var perTarget: [String: Int] = [:]
    var unnamedErrors: [String] = []
    var description: String {
        String(format: "%d inputs in %.1f s (%d loaded, %d errors); ", inputs, seconds, loaded, threw)
            + perTarget.keys.sorted().map { "\($0) \(perTarget[$0]!)" }.joined(separator: ", ")
    }
}

/// One reader and the folder layouts it reads.
struct FuzzTarget {
    var name: String
    /// Seed folders: file name → contents.
    var seeds: [[String: [UInt8]]]
    /// Reads the folder; an error is expected for most inputs.
    var read: (_ folder: String) throws -> Void
    /// Whether a thrown error must mention the mutated file's name (false for readers of in-memory
    /// bytes and for folders whose error names the folder).
    var errorsNameTheFile = true
}

final class Fuzzer {
    var generator: SplitMix64
    let root: String
    var targets: [FuzzTarget] = []
    let watchdog = Watchdog(limit: 5)

    init(seed: UInt64) throws {
        generator = SplitMix64(seed: seed)
        root = NSTemporaryDirectory() + "reckit-fuzz-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        targets = try FuzzSeeds.targets(scratch: root)
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    func run(inputs: Int) throws -> FuzzReport {
        FileHandle.standardError.write(
            Data("fuzz: inputs under \(root) (each target's folder holds the one being read)\n".utf8))
        var report = FuzzReport()
        let start = Date()
        watchdog.start()
        defer { watchdog.stop() }
        var index = 0
        while report.inputs < inputs {
            let target = targets[index % targets.count]
            index += 1
            let folder = root + "/" + target.name
            try? FileManager.default.removeItem(atPath: folder)
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let seed = target.seeds[generator.nextIndex(below: target.seeds.count)]
            let names = seed.keys.sorted()
            let mutated = names[generator.nextIndex(below: names.count)]
            for name in names {
                let bytes = name == mutated ? Mutations.mutate(seed[name]!, using: &generator) : seed[name]!
                let path = folder + "/" + name
                if name.contains("/") {
                    try FileManager.default.createDirectory(
                        atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                }
                FileManager.default.createFile(atPath: path, contents: Data(bytes))
            }
            watchdog.begin("\(target.name) reading \(folder)")
            do {
                try target.read(folder)
                report.loaded += 1
            } catch {
                report.threw += 1
                let message = "\(error)"
                if target.errorsNameTheFile && !message.contains(mutated) && !message.contains(folder) {
                    report.unnamedErrors.append("\(target.name)/\(mutated): \(message)")
                }
            }
            watchdog.end()
            report.inputs += 1
            report.perTarget[target.name, default: 0] += 1
        }
        report.seconds = Date().timeIntervalSince(start)
        return report
    }
}

/// Aborts the process, naming the input, when one read takes longer than `limit` seconds.
final class Watchdog: @unchecked Sendable { // state guarded by `lock`
    let limit: Double
    private let lock = NSLock()
    private var current: (what: String, since: Date)?
    private var running = false

    init(limit: Double) { self.limit = limit }

    func start() {
        lock.withLock { running = true }
        let thread = Thread { [self] in
            while lock.withLock({ running }) {
                Thread.sleep(forTimeInterval: 0.25)
                if let (what, since) = lock.withLock({ current }), Date().timeIntervalSince(since) > limit {
                    FileHandle.standardError.write(Data("fuzz: HANG (> \(limit) s) while \(what)\n".utf8))
                    abort()
                }
            }
        }
        thread.start()
    }

    func stop() { lock.withLock { running = false } }
    func begin(_ what: String) { lock.withLock { current = (what, Date()) } }
    func end() { lock.withLock { current = nil } }
}

/// The mutations, each seeded.
enum Mutations {
    static let numbers = [
        "99999999999999999999", "9223372036854775808", "-9223372036854775809", "-1", "0", "1e309", "-1e309", "nan",
        "NaN", "inf", "-inf", "1e-320", "4,5", "0x1F", "", " ", "1.7976931348623157e308", "2147483648",
    ].map { Array($0.utf8) }

    static func mutate(_ input: [UInt8], using generator: inout SplitMix64) -> [UInt8] {
        var bytes = input
        for _ in 0..<(1 + generator.nextIndex(below: 3)) { bytes = once(bytes, using: &generator) }
        return bytes
    }

    static func once(_ bytes: [UInt8], using generator: inout SplitMix64) -> [UInt8] {
        var bytes = bytes
        func position() -> Int { bytes.isEmpty ? 0 : generator.nextIndex(below: bytes.count + 1) }
        switch generator.nextIndex(below: 14) {
        case 0: // truncate anywhere
            return Array(bytes.prefix(position()))
        case 1: // truncate at a section boundary (line, field, brace)
            let boundaries = bytes.indices.filter { [10, 44, 9, 58, 125, 93, 124].contains(bytes[$0]) }
            guard !boundaries.isEmpty else { return bytes }
            return Array(bytes.prefix(boundaries[generator.nextIndex(below: boundaries.count)]))
        case 2: // flip bytes
            for _ in 0..<(1 + generator.nextIndex(below: 4)) where !bytes.isEmpty {
                bytes[generator.nextIndex(below: bytes.count)] ^= UInt8(1 << generator.nextIndex(below: 8))
            }
            return bytes
        case 3: // replace a number with a huge, negative or non-finite one
            let digits = bytes.indices.filter { (48...57).contains(bytes[$0]) }
            guard let start = digits.isEmpty ? nil : digits[generator.nextIndex(below: digits.count)] else {
                return bytes
            }
            var end = start
            while end < bytes.count, (48...57).contains(bytes[end]) || bytes[end] == 46 || bytes[end] == 45 { end += 1 }
            bytes.replaceSubrange(start..<end, with: numbers[generator.nextIndex(below: numbers.count)])
            return bytes
        case 4: // empty a field (drop the text between two separators)
            let separators = bytes.indices.filter { [44, 9, 58, 124, 59].contains(bytes[$0]) }
            guard separators.count >= 2 else { return bytes }
            let first = generator.nextIndex(below: separators.count - 1)
            bytes.removeSubrange((separators[first] + 1)..<separators[first + 1])
            return bytes
        case 5: // BOM
            return [0xEF, 0xBB, 0xBF] + bytes
        case 6: // CRLF line ends
            return bytes.flatMap { $0 == 10 ? [13, 10] : [$0] }
        case 7: // a stray quote
            bytes.insert(34, at: position())
            return bytes
        case 8: // a very long line or field
            let at = position()
            let piece = Array(bytes[at..<min(bytes.count, at + 1 + generator.nextIndex(below: 16))])
            let unit = piece.isEmpty ? [UInt8(ascii: "x")] : piece
            let repeats = min(2_000 + generator.nextIndex(below: 20_000), 200_000 / unit.count)
            bytes.insert(contentsOf: (0..<repeats).flatMap { _ in unit }, at: at)
            return bytes
        case 9: // duplicate the first line (a second header)
            let end = bytes.firstIndex(of: 10).map { $0 + 1 } ?? bytes.count
            return Array(bytes[0..<end]) + bytes
        case 10: // deep nesting (YAML, JSON)
            let depth = 500 + generator.nextIndex(below: 5_000)
            let open: [UInt8] = generator.nextIndex(below: 2) == 0 ? [91] : [123]
            bytes.insert(contentsOf: [UInt8](repeating: open[0], count: depth), at: position())
            return bytes
        case 11: // delete a random range
            let start = position()
            let end = min(bytes.count, start + generator.nextIndex(below: 64))
            bytes.removeSubrange(start..<end)
            return bytes
        case 12: // random bytes in the middle
            let noise = (0..<(1 + generator.nextIndex(below: 32))).map { _ in
                UInt8(truncatingIfNeeded: generator.next())
            }
            bytes.insert(contentsOf: noise, at: position())
            return bytes
        default: // swap two lines
            var lines = bytes.split(separator: 10, omittingEmptySubsequences: false).map(Array.init)
            guard lines.count >= 2 else { return bytes }
            lines.swapAt(generator.nextIndex(below: lines.count), generator.nextIndex(below: lines.count))
            return Array(lines.joined(separator: [10]))
        }
    }
}

/// The readers and their seed inputs.
enum FuzzSeeds {
    static func text(_ files: [String: String]) -> [String: [UInt8]] { files.mapValues { Array($0.utf8) } }

    static func targets(scratch: String) throws -> [FuzzTarget] {
        var targets: [FuzzTarget] = []
        let delimited = [
            text([
                "r.csv":

                    "userId,movieId,rating,timestamp\n"
                    + "1,10,4.5,964982703\n"
                    + "1,20,3,964981247\n"
                    + "2,10,5,964982224\n"
                    + "3,30,0.5,2001-09-09T01:46:40Z\n"
            ]),
            text(["r.csv": "u\ti\tw\n1\ta\t12\n2\tb\t7\n2\tc\t1\n"]),
            text(["r.csv": "user;item;rating\n\"1\";\"a \"\"quoted\"\" item\";4\n2;\"x;y\";5\n"]),
            text(["r.csv": "1|5|3|881250949\n2|7|4|881250950\n"]),
        ]
        let optionSets: [InteractionFileOptions] = [
            InteractionFileOptions(),
            InteractionFileOptions(badLines: .skip(keepingFirst: 5), duplicates: .sum, threadCount: 2),
            InteractionFileOptions(
                mapping: ColumnMapping(
                    user: .position(0), item: .position(1), rating: .position(2), timestamp: .position(3)),
                duplicates: .keepLast),
        ]
        for (index, options) in optionSets.enumerated() {
            targets.append(
                FuzzTarget(name: "delimited\(index)", seeds: delimited) { folder in
                    _ = try InteractionFileLoader.load(folder + "/r.csv", options: options)
                })
        }
        let movieLens100K = text([
            "u.data": "196\t242\t3\t881250949\n186\t302\t3\t891717742\n22\t377\t1\t878887116\n196\t302\t5\t881250950\n",
            "u.item":
                "242|Kolya (1996)|24-Jan-1997||http://x|0|0|0|0|0|1|0|0|0|0|0|0|0|0|0|0|0|0|0\n"
                + "302|L.A. Confidential (1997)|01-Jan-1997||http://y|0|0|0|0|0|1|0|0|0|0|0|0|0|0|0|0|0|0|0\n"
                + "377|Heavyweights (1994)|01-Jan-1994||http://z|0|0|0|0|1|0|0|0|0|0|0|0|0|0|0|0|0|0|0\n",
            "u.user": "196|49|M|writer|55105\n186|39|F|executive|00000\n22|25|M|writer|40206\n",
            "u.genre": "unknown|0\nAction|1\nAdventure|2\nAnimation|3\nChildren's|4\nComedy|5\n",
        ])
        let movieLensDat = text([
            "ratings.dat": "1::1193::5::978300760\n1::661::3::978302109\n2::1193::4::978298413\n",
            "movies.dat":
                "1193::One Flew Over the Cuckoo's Nest (1975)::Drama\n"
                + "661::James and the Giant Peach (1996)::Animation|Children's|Musical\n",
            "users.dat": "1::F::1::10::48067\n2::M::56::16::70072\n",
        ])
        let movieLensCSV = text([
            "ratings.csv": "userId,movieId,rating,timestamp\n1,1,4.0,964982703\n1,3,4.5,964981247\n2,1,2.5,964982224\n",
            "movies.csv":
                "movieId,title,genres\n1,Toy Story (1995),Adventure|Animation|Children\n3,\"Grumpier Old Men, The "
                + "(1995)\",Comedy|Romance\n",
            "tags.csv": "userId,movieId,tag,timestamp\n1,1,pixar,1445714994\n",
        ])
        let hetrec = text([
            "user_artists.dat": "userID\tartistID\tweight\n2\t51\t13883\n2\t52\t11690\n3\t51\t228\n",
            "artists.dat":
                "id\tname\turl\tpictureURL\n51\tDuran Duran\thttp://a\thttp://b\n52\tMorcheeba\thttp://c\thttp://d\n",
            "tags.dat": "tagID\ttagValue\n1\tmetal\n2\tpop\n",
            "user_taggedartists.dat": "userID\tartistID\ttagID\tday\tmonth\tyear\n2\t51\t1\t1\t4\t2009\n",
        ])
        let sessions = [
            text([
                "s.tsv":

                    "SessionId\tItemId\tTime\n"
                    + "1\t214536502\t1396839069\n"
                    + "1\t214536500\t1396839249\n"
                    + "2\t214662742\t1396850197\n"
            ])
        ]
        for (name, format, seed) in [
            ("movielens100k", DatasetFormat.movieLens100K, movieLens100K),
            ("movielensdat", .movieLensDat, movieLensDat),
            ("movielenscsv", .movieLensCSV, movieLensCSV), ("hetrec", .hetrecLastFM, hetrec),
        ] {
            targets.append(
                FuzzTarget(name: name, seeds: [seed]) { folder in _ = try Dataset.load(folder, format: format) })
        }
        targets.append(
            FuzzTarget(name: "detected", seeds: [movieLens100K, movieLensDat, movieLensCSV, hetrec]) { folder in
                _ = try Dataset.load(folder)
            })
        targets.append(
            FuzzTarget(name: "sessions", seeds: sessions) { folder in _ = try SessionLog.load(folder + "/s.tsv") })
        // `reckit data export` folders (plain and gzip parts) and Spark's factor folders for `reckit import`.
        let exported = try exportSeeds(scratch: scratch)
        targets.append(FuzzTarget(name: "exportfolder", seeds: exported) { folder in _ = try Dataset.load(folder) })
        let factors = text([
            "user_factors/part-00000-a.csv": "id,f0,f1\n\"u,1\",0.5,-1.5E-2\nu2,1,2\n",
            "user_factors/part-00001-a.csv": "id,f0,f1\nu3,3,4\n",
            "item_factors/part-00000-b.csv": "id,f0,f1\na,1,0\n\"b \"\"x\"\"\",0,1\n",
            "metadata/part-00000-c.txt":
                #"{"tool": "spark-als", "spark_version": "4.3.0", "implicit_prefs": true, "factors": 2, "#
                + #""regularization": 0.05, "alpha": 1.0, "iterations": 15, "seed": 0}"# + "\n",
        ])
        targets.append(
            FuzzTarget(name: "sparkfactors", seeds: [factors]) { folder in
                _ = try SparkALSImport.metadata(in: folder)
                _ = try FactorTable.read(folder: folder + "/user_factors")
                _ = try FactorTable.read(folder: folder + "/item_factors")
            })
        let split = text([
            "train.tsv": "1\t10\t4\t100\n1\t11\t5\t101\n2\t10\t3\t102\n",
            "test.tsv": "1\t12\t4\t200\n2\t11\t5\t201\n",
            "negatives.tsv": "1\t13\t14\n2\t12\t13\n",
        ])
        targets.append(
            FuzzTarget(name: "splitfolder", seeds: [split]) { folder in _ = try SplitDirectory.load(folder) })
        targets.append(
            FuzzTarget(
                name: "settingsyaml", seeds: [text(["s.yaml": "# ials\nfactors: 64\nalpha: 10\nsolver: cg\n"])]
            ) { folder in
                _ = try SettingsFile.read(folder + "/s.yaml", model: "ials")
            })
        let suiteData = scratch + "/suite-data"
        try FileManager.default.createDirectory(atPath: suiteData, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: suiteData + "/r.csv", contents: Data("u,i\n1,2\n".utf8))
        targets.append(
            FuzzTarget(
                name: "suiteyaml",
                seeds: [
                    text([
                        "suite.yaml": """
                        title: t
                        metrics: [ndcg@10, recall@20]
                        seeds: 2
                        datasets:
                          - {data: \(suiteData)/r.csv, split: "holdout:0.2", seed: 3}
                        models:
                          - popularity
                          - {model: ials, name: a, settings: {factors: 8, alpha: 1}, seeds: [1, 2]}
                        """
                    ])
                ]
            ) { folder in _ = try BenchmarkSuite.read(folder + "/suite.yaml") })
        let model = try modelFiles(scratch: scratch)
        targets.append(FuzzTarget(name: "modeldir", seeds: [model]) { folder in _ = try ModelStore.load(folder) })
        // The same, with the manifest's checksums made to match the mutated files, to reach the readers.
        targets.append(
            FuzzTarget(name: "modeldirsummed", seeds: [model]) { folder in
                try resum(folder)
                _ = try ModelStore.load(folder)
            })
        let mlp = MLP([3, 4, 2], seed: 1)
        try Checkpoint.save(mlp, to: scratch + "/seed.safetensors", metadata: ["epoch": "1"])
        let checkpoint = [
            ["c.safetensors": [UInt8](try Data(contentsOf: URL(fileURLWithPath: scratch + "/seed.safetensors")))]
        ]
        targets.append(
            FuzzTarget(name: "checkpoint", seeds: checkpoint) { folder in
                _ = try Checkpoint.load(into: MLP([3, 4, 2], seed: 2), from: folder + "/c.safetensors")
            })
        targets.append(
            FuzzTarget(
                name: "safetensors", seeds: checkpoint,
                read: { folder in
                    _ = try SafeTensors.decode(try Data(contentsOf: URL(fileURLWithPath: folder + "/c.safetensors")))
                }, errorsNameTheFile: false))
        return targets
    }

    /// A small trained model directory's three files.
    static func modelFiles(scratch: String) throws -> [String: [UInt8]] {
        let interactions = try Interactions(
            users: [0, 0, 1, 1, 2, 2, 3], items: [0, 1, 1, 2, 0, 3, 2], ratings: [5, 3, 4, 2, 1, 5, 4], userCount: 4,
            itemCount: 4)
        let trained = try TrainedModel(
            training: ConfiguredModel("svd", settings: ["factors": "2", "epochs": "2", "temporal": "false"]),
            on: interactions,
            users: try IDMap(ids: ["u1", "u2", "u3", "u4"]), items: try IDMap(ids: ["a", "b", "c", "d"]),
            itemTitles: ["A", nil, "C", "D"])
        let path = scratch + "/seed-model"
        try trained.save(to: path)
        var files: [String: [UInt8]] = [:]
        for name in ["manifest.json", "ids.json", "weights.safetensors"] {
            files[name] = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path + "/" + name)))
        }
        return files
    }

    /// An export of a small data set with awkward IDs, once with plain parts and once gzip-compressed.
    static func exportSeeds(scratch: String) throws -> [[String: [UInt8]]] {
        let interactions = try Interactions(
            users: [0, 0, 1, 2, 2], items: [0, 1, 1, 0, 2], ratings: [4, 3.5, 5, 1, 2],
            timestamps: [10, 11, 12, 13, 14], userCount: 3, itemCount: 3)
        let dataset = Dataset(
            name: "seed", format: .delimited, interactions: interactions,
            users: try IDMap(ids: ["u,1", "u\"2", "ü3"]), items: try IDMap(ids: ["a", "b,c", "東"]),
            itemCatalog: ItemCatalog(titles: ["A (1999)", nil, "C, the"]))
        return try [ExportCompression.none, .gzip].map { compression in
            let path = scratch + "/seed-export-\(compression.rawValue)"
            let manifest = try dataset.export(to: path, partitions: 2, compression: compression)
            var files: [String: [UInt8]] = [:]
            for name in manifest.partitions + ["export.json", "users.csv", "items.csv"] {
                files[name] = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path + "/" + name)))
            }
            return files
        }
    }

    /// Rewrites a (possibly mutated) manifest's checksums to match the other files, when it still parses.
    static func resum(_ folder: String) throws {
        guard let data = FileManager.default.contents(atPath: folder + "/manifest.json"),
            var object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any], object["files"] != nil
        else { return }
        var files: [String: String] = [:]
        for name in ["ids.json", "weights.safetensors"] {
            files[name] = Fingerprint.hex(FileManager.default.contents(atPath: folder + "/" + name) ?? Data())
        }
        object["files"] = files
        if let rewritten = try? JSONSerialization.data(withJSONObject: object) {
            FileManager.default.createFile(atPath: folder + "/manifest.json", contents: rewritten)
        }
    }
}

import Foundation
import Testing
import _RecKitTestSupport

/// The built `reckit` binary run as a user runs it, for each command the README shows: stdout (the
/// recommendations themselves, TSV lines, JSON objects), stderr and exit codes.
@Suite(.serialized) struct EndToEndTests {
    /// One run's exit code and output.
    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String

        func json() throws -> [String: Any] {
            try #require(try JSONSerialization.jsonObject(with: Data(stdout.utf8)) as? [String: Any])
        }
    }

    /// The `reckit` built beside this test bundle.
    static var binary: String {
        let folder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let beside = folder.appendingPathComponent("reckit").path
        return FileManager.default.isExecutableFile(atPath: beside)
            ? beside : SharedData.packageRoot + "/.build-test/release/reckit"
    }

    static let folder = TemporaryDirectory()
    static let data = folder.path + "/data"
    static let model = folder.path + "/ials"

    /// Runs `reckit arguments` with stdout and stderr in files (no pipe can fill up and block).
    /// `reckit-bench`, beside `reckit`.
    static var benchBinary: String { binary + "-bench" }

    @discardableResult
    static func reckit(_ arguments: [String], executable: String = binary) throws -> Run {
        let out = folder.path + "/stdout-\(UUID().uuidString)"
        let err = folder.path + "/stderr-\(UUID().uuidString)"
        FileManager.default.createFile(atPath: out, contents: nil)
        FileManager.default.createFile(atPath: err, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: err))
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return Run(
            status: process.terminationStatus, stdout: try String(contentsOfFile: out, encoding: .utf8),
            stderr: try String(contentsOfFile: err, encoding: .utf8))
    }

    /// The synthetic data set and an iALS model trained on it, made once.
    static let prepared: Bool = {
        guard
            (try? reckit(["data", "synth", "--preset", "tiny", "--seed", "5", "--out", data, "--quiet"]))?.status == 0
        else { return false }
        let train = try? reckit([
            "train", "--data", data, "--model", "ials", "--set", "factors=8", "--out", model, "--quiet",
        ])
        return train?.status == 0
    }()

    @Test func dataCommands() throws {
        #expect(Self.prepared)
        let inspect = try Self.reckit(["data", "inspect", Self.data, "--json"])
        #expect(inspect.status == 0)
        let summary = try inspect.json()
        #expect("\(summary)".contains("300") && "\(summary)".contains("400"))
        let csv = Self.folder.path + "/all.csv"
        let convert = try Self.reckit(["data", "convert", Self.data, "--out", csv])
        #expect(convert.status == 0)
        let lines = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n")
        #expect(lines.count > 1000 && lines[0].hasPrefix("user"))
        // Export for a cluster, and the export read back as a data set.
        let export = Self.folder.path + "/export"
        let exported = try Self.reckit(["data", "export", Self.data, "--out", export, "--partitions", "3", "--json"])
        #expect(exported.status == 0, "\(exported.stderr)")
        let manifest = try exported.json()
        #expect((manifest["partitions"] as? [String])?.count == 3 && manifest["value_column"] as? String == "rating")
        let reread = try Self.reckit(["data", "inspect", export, "--json"]).json()
        #expect(reread["interactionCount"] as? Int == lines.count - 1 && reread["format"] as? String == "reckit-export")
        let parquet = try Self.reckit(["data", "export", Self.data, "--out", export, "--format", "parquet"])
        #expect(parquet.status == 64 && parquet.stderr.contains("no maintained Parquet library"))
    }

    /// The loading options: a headerless, tab-separated file with its columns in another order.
    /// Events in and out of a server's store: an import stored once however often it runs, an export
    /// that reads back, and a model trained from the store that recommends as one trained from the file.
    @Test func eventsImportExportAndTrain() throws {
        #expect(Self.prepared)
        let store = "sqlite:" + Self.folder.path + "/events-\(UUID().uuidString).sqlite"
        let first = try Self.reckit(["events", "import", Self.data, "--events", store])
        #expect(first.status == 0 && first.stderr.contains("stored ") && !first.stderr.contains("stored 0 "))
        let again = try Self.reckit(["events", "import", Self.data, "--events", store])
        #expect(again.status == 0 && again.stderr.contains("stored 0 events"))
        let csv = Self.folder.path + "/events.csv"
        #expect(try Self.reckit(["events", "export", "--events", store, "--out", csv]).status == 0)
        let lines = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n")
        let ratings = try Self.reckit(["data", "inspect", Self.data, "--json"]).json()
        #expect(lines[0] == "user,item,value,time" && "\(ratings)".contains("\(lines.count - 1)"))
        let fromEvents = Self.folder.path + "/ials-events"
        let train = try Self.reckit([
            "train", "--events", store, "--model", "ials", "--set", "factors=8", "--out", fromEvents, "--quiet",
        ])
        #expect(train.status == 0)
        let a = try Self.reckit(["recommend", "--model", fromEvents, "--user", "3", "--tsv"])
        let b = try Self.reckit(["recommend", "--model", Self.model, "--user", "3", "--tsv"])
        #expect(a.status == 0 && a.stdout == b.stdout)
        let missing = try Self.reckit([
            "events", "export", "--events", "sqlite:" + Self.folder.path + "/no/such/e.sqlite",
        ])
        #expect(missing.status != 0 && missing.stderr.contains("cannot be opened"))
    }

    /// `train --evaluate`: the numbers saved with the model are `reckit evaluate`'s on the same split,
    /// and the model itself is trained on all the data.
    @Test func trainEvaluatesOnASplitFirst() throws {
        #expect(Self.prepared)
        let out = Self.folder.path + "/ials-evaluated"
        let settings = ["--model", "ials", "--set", "factors=8"]
        let train = try Self.reckit(
            [
                "train", "--data", Self.data, "--evaluate", "holdout:0.2", "--metrics", "ndcg@10,recall@10", "--out",
                out,
                "--quiet",
            ] + settings)
        #expect(train.status == 0, "\(train.stderr)")
        let manifest = try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: out + "/manifest.json")))
        let saved = try #require((manifest as? [String: Any])?["evaluation"] as? [String: Any])
        let ndcg = try #require((saved["metrics"] as? [String: Any])?["ndcg@10"] as? Double)
        let evaluate = try Self.reckit(
            ["evaluate", "--data", Self.data, "--split", "holdout:0.2", "--metrics", "ndcg@10", "--json", "--quiet"]
                + settings)
        let measured = try #require((try evaluate.json()["metrics"] as? [String: Any])?["ndcg@10"] as? Double)
        #expect(abs(ndcg - measured) < 1e-9, "train --evaluate \(ndcg), evaluate \(measured)")
        #expect((saved["split"] as? String)?.contains("seed 42") == true)
        // The curves the page plots: recall@k and NDCG@k of the model and of popularity on the split.
        let curves = try #require(saved["curves"] as? [String: Any])
        #expect(curves["k"] as? [Int] == [1, 2, 5, 10, 20, 50, 100])
        let series = try #require(curves["series"] as? [[String: Any]])
        #expect(
            series.map { "\($0["model"] ?? "") \($0["metric"] ?? "")" } == [
                "ials recall", "ials ndcg", "popularity recall", "popularity ndcg",
            ])
        let ialsRecall = try #require(series[0]["values"] as? [Double])
        let savedRecall = try #require((saved["metrics"] as? [String: Any])?["recall@10"] as? Double)
        #expect(ialsRecall[3] == savedRecall && ialsRecall == ialsRecall.sorted(), "recall@k grows with k")
        let popularity = try Self.reckit(
            [
                "evaluate", "--data", Self.data, "--split", "holdout:0.2", "--model", "popularity", "--metrics",
                "ndcg@10", "--json", "--quiet",
            ])
        let popularityNDCG = try #require(
            (try popularity.json()["metrics"] as? [String: Any])?["ndcg@10"] as? Double)
        #expect(abs(try #require(series[3]["values"] as? [Double])[3] - popularityNDCG) < 1e-9)
        let a = try Self.reckit(["recommend", "--model", out, "--user", "3", "--tsv"])
        let b = try Self.reckit(["recommend", "--model", Self.model, "--user", "3", "--tsv"])
        #expect(a.status == 0 && a.stdout == b.stdout, "trained on everything, as without --evaluate")
        let bad = try Self.reckit(["train", "--data", Self.data, "--evaluate", "half", "--out", out] + settings)
        #expect(bad.status != 0 && bad.stderr.contains("--evaluate takes a split"))
    }

    @Test func loadingOptions() throws {
        let file = Self.folder.write("plays.tsv", "a\tu1\t3\nb\tu1\t5\na\tu2\t1\nc\tu3\t2\nc\tu3\t4\n")
        let run = try Self.reckit([
            "data", "inspect", file, "--delimiter", "tab", "--no-header", "--user-column", "1", "--item-column", "0",
            "--weight-column", "2", "--duplicates", "sum", "--json",
        ])
        #expect(run.status == 0, "\(run.stderr)")
        let summary = try run.json()
        #expect(summary["userCount"] as? Int == 3 && summary["itemCount"] as? Int == 3)
        #expect(summary["interactionCount"] as? Int == 4 && summary["weightTotal"] as? Double == 15)
        let bad = try Self.reckit(["data", "inspect", file, "--delimiter", "::x"])
        #expect(bad.status == 64)
    }

    @Test func evaluateTrainedAndSavedModels() throws {
        #expect(Self.prepared)
        let run = try Self.reckit([
            "evaluate", "--data", Self.data, "--split", "holdout:0.2", "--model", "popularity,ease", "--json",
            "--markdown", Self.folder.path + "/board.md",
        ])
        #expect(run.status == 0 && run.stderr.isEmpty)
        let results = try #require(try run.json()["results"] as? [[String: Any]])
        let ndcg = results.compactMap { $0["ndcg@10"] as? Double }
        #expect(
            results.map { $0["model"] as? String } == ["popularity", "ease"] && ndcg.count == 2 && ndcg[1] > ndcg[0])
        let board = try String(contentsOfFile: Self.folder.path + "/board.md", encoding: .utf8)
        let easeRow = board.split(separator: "\n").first { $0.hasPrefix("| ease |") }
        #expect(easeRow?.contains(String(format: "| %.4f |", ndcg[1])) == true, "\(board)")
        // A saved model on the same data: its own training pairs excluded, every test pair known.
        let saved = try Self.reckit(["evaluate", "--saved", Self.model, "--data", Self.data, "--json"])
        #expect(saved.status == 0)
        let context = try saved.json()["context"] as? [String: String]
        #expect(context?["saved_model"] == Self.model)
    }

    /// A split folder with negatives: the sampled protocol, labelled as such.
    @Test func splitFolderWithNegatives() throws {
        var train = ""
        var test = ""
        var negatives = ""
        for user in 1...20 {
            for item in 1...8 where (item + user) % 3 != 0 { train += "\(user)\t\(item)\t4\t\(user * 10 + item)\n" }
            test += "\(user)\t\((user % 4) + 9)\t5\t999\n"
            negatives += "\(user)\t13\t14\t15\n"
        }
        Self.folder.write("split/train.tsv", train)
        Self.folder.write("split/test.tsv", test)
        Self.folder.write("split/negatives.tsv", negatives)
        let run = try Self.reckit([
            "evaluate", "--split-dir", Self.folder.path + "/split", "--model", "popularity", "--json",
        ])
        #expect(run.status == 0, "\(run.stderr)")
        let object = try run.json()
        #expect(object["protocol"] as? String == "sampled" && object["hr@10"] as? Double == 1)
    }

    @Test func recommendInEveryForm() throws {
        #expect(Self.prepared)
        let single = try Self.reckit(["recommend", "--model", Self.model, "--user", "1", "-k", "3", "--json"])
        #expect(single.status == 0)
        let items = try #require(try single.json()["items"] as? [[String: Any]])
        #expect(items.map { $0["rank"] as? Int } == [1, 2, 3] && items.allSatisfy { $0["title"] is String })
        let tsv = try Self.reckit(["recommend", "--model", Self.model, "--user", "1", "-k", "3", "--tsv"])
        let rows = tsv.stdout.split(separator: "\n").map { $0.split(separator: "\t").map(String.init) }
        #expect(rows.map { $0[1] } == items.map { $0["item"] as? String } && rows.allSatisfy { $0[0] == "1" })
        let all = try Self.reckit(["recommend", "--model", Self.model, "--users", "all", "-k", "2"])
        #expect(all.status == 0 && all.stdout.split(separator: "\n").count == 2 * 300)
        let file = Self.folder.write("users.txt", "1\n2\n")
        let some = try Self.reckit(["recommend", "--model", Self.model, "--users", file, "-k", "2", "--tsv"])
        #expect(some.stdout.split(separator: "\n").count == 4 && all.stdout.hasPrefix(some.stdout.prefix(10)))
        let history = try Self.reckit([
            "recommend", "--model", Self.model, "--history", "1,2,nope", "-k", "4", "--json",
        ])
        #expect(history.status == 0 && history.stderr.contains("ignoring 1 unknown item ID(s): nope"))
        let historyItems = try history.json()["items"] as? [[String: Any]]
        #expect(historyItems?.count == 4)
        let explain = try Self.reckit(["recommend", "--model", Self.model, "--user", "1", "-k", "2", "--explain"])
        #expect(explain.status == 0 && explain.stderr.components(separatedBy: "because of").count == 3)
    }

    @Test func similarByTitle() throws {
        #expect(Self.prepared)
        let catalog = try String(contentsOfFile: Self.data + "/items.csv", encoding: .utf8).split(separator: "\n")
        let title = try #require(catalog.dropFirst().first?.split(separator: ",").dropFirst().first).description
        let run = try Self.reckit(["similar", "--model", Self.model, "--item", title, "-k", "5", "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        let object = try run.json()
        #expect(object["title"] as? String == title && (object["similar"] as? [[String: Any]])?.count == 5)
    }

    @Test func benchmarkAndModels() throws {
        #expect(Self.prepared)
        let suite = Self.folder.write(
            "suite.yaml", "metrics: [ndcg@10]\ndatasets: [{data: data}]\nmodels: [popularity, {model: ease, name: e}]\n"
        )
        let run = try Self.reckit(["benchmark", suite, "--json"])
        #expect(run.status == 0)
        let sets = try #require(try run.json()["datasets"] as? [[String: Any]])
        #expect((sets.first?["results"] as? [[String: Any]])?.map { $0["model"] as? String } == ["popularity", "e"])
        let models = try Self.reckit(["models"])
        #expect(models.status == 0 && models.stdout.contains("ials ") && models.stdout.contains("mostrecent"))
        let ials = try Self.reckit(["models", "ials"])
        #expect(ials.stdout.contains("cg_steps") && ials.stdout.contains("default 64"))
    }

    /// The README's benchmark commands run (at toy sizes) and print their JSON lines with the raw
    /// times and the in-run reference or ratio.
    @Test func benchmarkCommandsPrintTheirMeasurements() throws {
        #expect(Self.prepared)
        func lines(_ arguments: [String]) throws -> [[String: Any]] {
            let run = try Self.reckit(arguments, executable: Self.benchBinary)
            #expect(run.status == 0, "\(arguments): \(run.stderr)")
            return run.stdout.split(separator: "\n").compactMap {
                try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            }
        }
        let ials = try lines(["fit", "--model", "ials", "--preset", "tiny", "--iterations", "2"])
        #expect((ials.last?["seconds_per_iteration"] as? [Double])?.count == 2)
        let svd = try lines(["fit", "--model", "svd", "--preset", "tiny", "--iterations", "2"])
        #expect((svd.last?["rmse"] as? Double).map { $0 > 0 && $0 < 2 } == true)
        let fingerprint = try lines(["fingerprint", "--file", Self.data + "/ratings.csv", "--repeats", "1"])
        #expect(fingerprint.last?["digests_agree"] as? Bool == true)
        let parse = try lines(["parse", "--file", Self.data + "/ratings.csv", "--repeats", "1", "--python", ""])
        #expect((parse.last?["rows"] as? Int).map { $0 > 1000 } == true, "\(parse)")
        let topk = try lines(["topk", "--users", "500", "--items", "300", "--seen", "none", "--repeats", "1"])
        #expect(topk.last?["users"] as? Int == 500)
        let synth = try lines(["synth", "--preset", "tiny", "--out", Self.folder.path + "/bench-synth"])
        #expect(synth.last?["benchmark"] != nil)
        let nn = try lines([
            "nn", "--batch", "64", "--width", "32", "--repeats", "2", "--steps", "2", "--memory-steps", "10",
            "--head-items",
            "100", "--head-batch", "8", "--head-width", "16", "--head-steps", "2",
        ])
        #expect(nn.contains { $0["ratio_to_sgemm"] is Double })
    }

    @Test func errorsAndExitCodes() throws {
        #expect(Self.prepared)
        let unknown = try Self.reckit(["recommend", "--model", Self.model, "--user", "nobody"])
        #expect(unknown.status == 1 && unknown.stderr == "Error: user 'nobody' is not in the model's training data\n")
        let json = try Self.reckit(["recommend", "--model", Self.model, "--user", "nobody", "--json"])
        let code = try json.json()["exit_code"] as? Int
        #expect(json.status == 1 && code == 1)
        let usage = try Self.reckit(["recommend", "--model", Self.model, "--user", "1", "-k", "0"])
        #expect(
            usage.status == 64 && usage.stderr.contains("-k must be in 1...100000") && usage.stderr.contains("Usage:"))
        let setting = try Self.reckit(["evaluate", "--data", Self.data, "--model", "ials", "--set", "factorz=8"])
        #expect(setting.status == 64 && setting.stderr.contains("did you mean 'factors'?"))
        let missing = try Self.reckit(["data", "inspect", Self.folder.path + "/nothing.csv"])
        #expect(missing.status != 0 && missing.stderr.contains("nothing.csv"))
    }

    /// Session click files: next-item evaluation of `sessionknn` and `gru4rec` with a validation file,
    /// and next-item recommendations for a session from a saved model.
    @Test func sessionFilesNextItem() throws {
        // 60 training sessions that follow a rule (after item i, item i + 1 mod 8), 20 later test sessions
        // (one click on an unknown item, removed), 10 validation sessions among the training ones.
        func file(_ name: String, sessions: Range<Int>, unknownAt: Int? = nil) throws -> String {
            var text = "SessionId\tItemId\tTime\n"
            for session in sessions {
                for step in 0..<4 {
                    let item = 100 + (session + step) % 8
                    text += "\(session)\t\(session == unknownAt && step == 3 ? 999 : item)\t\(session * 100 + step)\n"
                }
            }
            let path = Self.folder.path + "/" + name
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        let train = try file("train.txt", sessions: 0..<60)
        let test = try file("test.txt", sessions: 60..<80, unknownAt: 61)
        let valid = try file("valid.txt", sessions: 50..<60)
        func evaluate(_ model: [String]) throws -> [String: Any] {
            let run = try Self.reckit(
                [
                    "evaluate", "--train", train, "--test", test, "--validation", valid, "--metrics", "recall@2,mrr@2",
                    "--json",
                ]
                    + model)
            #expect(run.status == 0, "\(run.stderr)")
            return try run.json()
        }
        let knn = try evaluate(["--model", "sessionknn"])
        // 20 sessions × 3 cases, one click removed: 59 cases; co-occurrence puts i − 1 and i + 1 first.
        #expect(knn["protocol"] as? String == "next-item" && knn["evaluated_users"] as? Int == 59)
        #expect(knn["recall@2"] as? Double == 1)
        // Eight items: recall@20 is 1 from the first epoch, so the epoch count is chosen on MRR@20.
        let gru = try evaluate([
            "--model", "gru4rec", "--set", "hidden=8", "--set", "learning_rate=0.05", "--set", "validation_metric=mrr",
        ])
        #expect((gru["mrr@2"] as? Double ?? 0) > 0.9, "\(gru)")
        let bad = try Self.reckit(["evaluate", "--train", train, "--model", "sessionknn"])
        #expect(bad.status == 64 && bad.stderr.contains("--train and --test go together"))
        let model = Self.folder.path + "/sessionknn"
        #expect(
            try Self.reckit(["train", "--data", train, "--model", "sessionknn", "--out", model, "--quiet"]).status == 0)
        // Co-occurrence has no direction: after 106 both 105 and 107 are neighbours; without the clicked
        // items, 107 comes first.
        let next = try Self.reckit([
            "recommend", "--model", model, "--session", "105,106", "-k", "2", "--tsv", "--exclude-clicked",
        ])
        #expect(next.stdout.hasPrefix("session\t107\t1\n"), "\(next.stdout)")
    }
}

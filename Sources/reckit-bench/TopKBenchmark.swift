import ArgumentParser
import Foundation
import RecKit

struct TopKBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topk",
        abstract:
            "Full-ranking top-k for every user from random factors (one GEMM per batch + heap selection), excluding "
            + "each user's items of the ml-20m-like synthetic set; compared with implicit's topk in the same run."
    )

    @Option var users = 138_000
    @Option var items = 27_000
    @Option var factors = 64
    @Option var k = 10
    @Option(help: "Users per batch (256: the scores stay reusable in the allocator's heap).") var batch = 256
    @Option(
        help:
            "Exclude each user's items of this synthetic preset (its users/items must match the shape); 'none' to skip."
    )
    var seen = "ml-20m-like"
    @Option(
        help: "Python with implicit for the reference (e.g. a venv from ../shared/peers/install.sh); empty to skip.")
    var python = ""
    @Option(help: "Path of ../shared/peers/bench_topk.py.") var peerScript = "../shared/peers/bench_topk.py"
    @Option var repeats = 3
    @Option(
        help: ArgumentHelp(
            "gemm: scores of a batch by one GEMM, then top-k per row; packed: FactorModel.topItems, the item table "
                + "packed once and scored a block at a time into the selections (the serving path)."))
    var method = "gemm"

    func run() throws {
        guard ["gemm", "packed"].contains(method) else { throw ValidationError("--method is gemm or packed") }
        var generator = Xoshiro256(seed: 42)
        let userFactors = Tensor(
            shape: [users, factors],
            scalars: (0..<(users * factors)).map { _ in (generator.nextUnitFloat() - 0.5) * 0.3 })
        let itemFactors = Tensor(
            shape: [items, factors],
            scalars: (0..<(items * factors)).map { _ in (generator.nextUnitFloat() - 0.5) * 0.3 })
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
            times.append(
                time {
                    var start = 0
                    while start < users {
                        let batchUsers = (start..<min(users, start + batch)).map { Int32($0) }
                        let lists =
                            method == "packed"
                            ? model.topItems(
                                forUsers: batchUsers, k: k,
                                excluding: batchUsers.map { user in
                                    matrix.map { Array($0.columns(inRow: Int(user))) } ?? []
                                })
                            : model.recommend(users: batchUsers, k: k, excludingSeen: matrix, batchSize: batch)
                        checksum &+= lists.reduce(0) { $0 &+ Int($1.first?.index ?? 0) }
                        start += batch
                    }
                })
        }
        let ours = median(times)
        var result: [String: Any] = [
            "benchmark": "topk_full_ranking", "method": method, "batch": batch, "users": users, "items": items,
            "factors": factors, "k": k,
            "excluded_seen": matrix != nil, "excluded_interactions": matrix?.nonzeroCount ?? 0, "seconds": ours,
            "users_per_second": Double(users) / ours, "all_seconds": times, "checksum": checksum,
        ]
        if !python.isEmpty {
            var arguments = [
                python, peerScript, "--users", String(users), "--items", String(items), "--factors", String(factors),
                "--k", String(k),
            ]
            if let matrix {
                // The same exclusions for implicit: dense user,item pairs.
                let path = NSTemporaryDirectory() + "reckit-topk-seen.csv"
                var text = ""
                text.reserveCapacity(matrix.nonzeroCount * 12)
                for row in 0..<matrix.rowCount {
                    for column in matrix.columns(inRow: row) { text += "\(row),\(column)\n" }
                }
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

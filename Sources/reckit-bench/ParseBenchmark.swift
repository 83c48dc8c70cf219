import ArgumentParser
import Foundation
import RecKit

struct ParseBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parse",
        abstract:
            "Parse a ratings CSV into Interactions + CSR; compare with pandas.read_csv on the same file in the same "
            + "run."
    )

    @Option(help: "The CSV file (e.g. ratings.csv of `reckit data synth --preset ml-20m-like`).") var file: String
    @Option(help: "Repetitions; the median is reported.") var repeats = 3
    @Option(help: "Python with pandas for the reference; empty to skip.") var python = "python3"

    func run() throws {
        let bytes = try fileSize(file)
        // Ours and pandas alternate, one run each per repeat, so that a noisy neighbour slows both.
        var seconds: [Double] = []
        var loadTimes: [Double] = []
        var pandasTimes: [Double] = []
        var rows = 0
        var finalBytes = 0
        var pandasRows = 0
        var pandasVersion = ""
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
            let sharesColumns = m.columnIndices.withUnsafeBufferPointer { a in
                data.items.withUnsafeBufferPointer { $0.baseAddress == a.baseAddress }
            }
            let sharesValues = m.values.withUnsafeBufferPointer { a in
                (data.weights ?? data.ratings ?? []).withUnsafeBufferPointer { $0.baseAddress == a.baseAddress }
            }
            finalBytes =
                data.count * (4 + 4) + (data.ratings?.count ?? 0) * 4 + (data.timestamps?.count ?? 0) * 8
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
        let peak = peakRSS() // this process only: pandas runs in a child
        let ours = median(seconds)
        var result: [String: Any] = [
            "benchmark": "parse_csv_to_interactions_and_csr", "file": (file as NSString).lastPathComponent,
            "bytes": bytes,
            "rows": rows, "seconds": ours, "mb_per_s": Double(bytes) / 1e6 / ours, "rows_per_s": Double(rows) / ours,
            "peak_rss_bytes": peak, "final_array_bytes": finalBytes,
            "peak_over_final": Double(peak) / Double(finalBytes),
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

    func fileSize(_ path: String) throws -> Int {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
            let size = (attributes[.size] as? NSNumber)?.intValue
        else { throw ValidationError("cannot read \(path)") }
        return size
    }
}

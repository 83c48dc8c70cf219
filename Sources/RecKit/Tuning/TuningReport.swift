import Foundation

/// The HTML page of a tuning run: the best settings and their test result, the search's progress
/// (best validation value so far against time), the validation value against each setting, and every
/// trial in a table.
public enum TuningReport {
    public static func html(
        tuner: Tuner, trials: [TrialRecord], best: TrialRecord?, test: EvaluationResult?, validation: String
    ) -> String {
        let metric = tuner.metric.description
        var body = "<h1>Tuning \(Report.escape(tuner.model))</h1>\n"
        body +=
            "<p>\(trials.count) trials, \(Report.escape(tuner.halving?.description ?? "random search")) "
            + "(seed \(tuner.seed)); \(Report.escape(metric)) measured on a "
            + "validation split cut from the training part (\(Report.escape(validation))); the test split is used "
            + "once, for the best settings.</p>\n"
        if let best {
            body += "<h2>Best settings</h2>\n<p>trial \(best.trial): <code>"
            body += Report.escape(
                best.settings.keys.sorted().map { "\($0)=\(best.settings[$0]!)" }.joined(separator: " "))
            body += "</code>; validation \(Report.escape(metric)) \(String(format: "%.4f", best.value ?? 0))</p>\n"
        }
        if let test {
            body += "<table><tr><th>test</th>"
            for value in test.metrics { body += "<th>\(Report.escape(value.name))</th>" }
            body += "</tr><tr><td>\(Report.escape(test.model))</td>"
            for value in test.metrics {
                let sd = test.standardDeviations?[value.name].map { String(format: " ± %.4f", $0) } ?? ""
                body += "<td>\(String(format: "%.4f", value.value))\(sd)</td>"
            }
            body += "</tr></table>\n"
        }
        let measured = trials.filter { $0.value != nil }
        body += "<div class=\"charts\">\n"
        body += progressChart(measured, metric: metric, higherIsBetter: tuner.higherIsBetter)
        for key in tuner.space.dimensions.keys.sorted() {
            let dimension = tuner.space.dimensions[key]!
            if case .fixed = dimension { continue }
            // With halving, the first rung: every setting at the same budget.
            body += settingChart(
                measured.filter { $0.rung ?? 0 == 0 }, key: key, dimension: dimension, metric: metric)
        }
        body += "</div>\n<h2>Trials</h2>\n<table><tr><th>trial</th>"
        let keys = Set(trials.flatMap(\.settings.keys)).sorted()
        for key in keys { body += "<th>\(Report.escape(key))</th>" }
        let rungs = trials.contains { $0.rung != nil }
        if rungs { body += "<th>rung</th>" }
        body += "<th>\(Report.escape(metric))</th><th>seconds</th></tr>\n"
        for trial in trials {
            body += "<tr><td>\(trial.trial)</td>"
            for key in keys { body += "<td>\(Report.escape(trial.settings[key] ?? ""))</td>" }
            if rungs { body += "<td>\(trial.rung.map(String.init) ?? "")</td>" }
            let value = trial.value.map { String(format: "%.4f", $0) } ?? "failed: \(trial.error ?? "")"
            body += "<td>\(Report.escape(value))</td><td>\(String(format: "%.1f", trial.seconds))</td></tr>\n"
        }
        body += "</table>\n"
        return Report.page(title: "Tuning \(tuner.model)", body: body)
    }

    static let width = 340.0
    static let height = 230.0
    static let margin = 44.0

    /// Points in the plot area, with axis labels; `xs` may be logarithmic.
    static func plot(
        title: String, xs: [Double], ys: [Double], logarithmic: Bool, xLabel: String, line: Bool
    ) -> String {
        var svg =
            "<svg width=\"\(Int(width))\" height=\"\(Int(height))\" role=\"img\" "
            + "aria-label=\"\(Report.escape(title))\">"
        svg += "<text x=\"0\" y=\"14\" font-weight=\"bold\">\(Report.escape(title))</text>"
        svg += Report.axes(width: width, height: height, margin: margin)
        guard !xs.isEmpty else { return svg + "</svg>\n" }
        let scaled = logarithmic ? xs.map { log10(max($0, 1e-12)) } : xs
        let (xLow, xHigh) = (scaled.min()!, max(scaled.max()!, scaled.min()! + 1e-12))
        let (yLow, yHigh) = (ys.min()!, max(ys.max()!, ys.min()! + 1e-12))
        let points = zip(scaled, ys).map { x, y in
            (
                margin + (width - margin - 20) * (x - xLow) / (xHigh - xLow),
                (height - margin) - (height - margin - 30) * (y - yLow) / (yHigh - yLow)
            )
        }
        if line {
            svg += "<polyline fill=\"none\" stroke=\"#4a7fc1\" points=\""
            svg += points.map { String(format: "%.1f,%.1f", $0.0, $0.1) }.joined(separator: " ") + "\"/>"
        }
        for (x, y) in points {
            svg += String(format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"#c1574a\"/>", x, y)
        }
        let format: (Double) -> String = {
            logarithmic ? SearchSpace.Dimension.format(pow(10, $0)) : SearchSpace.Dimension.format($0)
        }
        svg += String(format: "<text x=\"%.0f\" y=\"%.0f\">", margin, height - margin + 14) + format(xLow) + "</text>"
        svg +=
            String(format: "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">", width - 10, height - margin + 14)
            + format(xHigh) + "</text>"
        svg +=
            String(format: "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">", (width + margin) / 2, height - 8)
            + Report.escape(xLabel) + "</text>"
        svg += String(format: "<text x=\"2\" y=\"%.0f\">%.4f</text>", height - margin, yLow)
        svg += String(format: "<text x=\"2\" y=\"36\">%.4f</text>", yHigh)
        return svg + "</svg>\n"
    }

    /// The best value found so far against seconds of search.
    static func progressChart(_ trials: [TrialRecord], metric: String, higherIsBetter: Bool) -> String {
        var best: Double?
        var ys: [Double] = []
        for trial in trials.sorted(by: { $0.elapsed < $1.elapsed }) {
            best = best.map { higherIsBetter ? max($0, trial.value!) : min($0, trial.value!) } ?? trial.value!
            ys.append(best!)
        }
        return plot(
            title: "best \(metric) so far", xs: trials.map(\.elapsed).sorted(), ys: ys, logarithmic: false,
            xLabel: "seconds of search", line: true)
    }

    /// The validation value of every trial against one setting (choices by their position).
    static func settingChart(
        _ trials: [TrialRecord], key: String, dimension: SearchSpace.Dimension, metric: String
    ) -> String {
        var xs: [Double] = []
        var ys: [Double] = []
        var label = key
        if case .choice(let values) = dimension {
            label += " (" + values.enumerated().map { "\($0.offset): \($0.element)" }.joined(separator: ", ") + ")"
        }
        for trial in trials {
            guard let text = trial.settings[key] else { continue }
            let x: Double?
            if case .choice(let values) = dimension {
                x = values.firstIndex(of: text).map(Double.init)
            } else {
                x = Double(text)
            }
            guard let x else { continue }
            xs.append(x)
            ys.append(trial.value!)
        }
        return plot(
            title: "\(metric) vs \(key)", xs: xs, ys: ys, logarithmic: dimension.isLogarithmic, xLabel: label,
            line: false)
    }
}

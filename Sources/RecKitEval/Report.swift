import Foundation

/// Leaderboards from evaluation results: a Markdown table and a self-contained HTML page with SVG
/// charts (one bar chart per metric, and quality against training time). No scripts, no network.
public enum Report {
    /// One leaderboard of a report: a heading (e.g. the data set) and its results.
    public struct Section: Sendable {
        public var title: String
        public var results: [EvaluationResult]
        public init(title: String, results: [EvaluationResult]) {
            self.title = title
            self.results = results
        }
    }

    /// A Markdown table: one row per result, one column per metric (in the first result's order).
    public static func markdown(_ results: [EvaluationResult], title: String = "RecKit leaderboard") -> String {
        markdownTable(results, heading: "# \(title)")
    }

    /// Several leaderboards under one title, one `##` section each.
    public static func markdown(sections: [Section], title: String) -> String {
        "# \(title)\n\n" + sections.map { markdownTable($0.results, heading: "## \($0.title)") }.joined(separator: "\n")
    }

    static func markdownTable(_ results: [EvaluationResult], heading: String) -> String {
        guard let first = results.first else { return "\(heading)\n\nNo results.\n" }
        let names = first.metrics.map(\.name)
        var lines = [heading, ""]
        for kind in Set(results.map(\.protocolDescription)).sorted() { lines.append("Protocol: \(kind)") }
        if let runs = results.compactMap(\.runCount).max() {
            lines.append("Seeded models: mean ± sample standard deviation over \(runs) seeds")
        }
        lines.append("")
        lines.append("| model | " + names.joined(separator: " | ") + " | fit s | users |")
        lines.append("|---|" + names.map { _ in "---:" }.joined(separator: "|") + "|---:|---:|")
        for result in results {
            let cells = names.map { name in result.formatted(name) ?? "–" }
            let fit = result.fitSeconds.map { String(format: "%.2f", $0) } ?? "–"
            lines.append(
                "| \(result.model) | " + cells.joined(separator: " | ") + " | \(fit) | \(result.evaluatedUserCount) |")
        }
        lines.append("")
        for metric in first.metrics { lines.append("- `\(metric.name)`: \(metric.definition)") }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A self-contained HTML page.
    public static func html(_ results: [EvaluationResult], title: String = "RecKit leaderboard") -> String {
        page(title: title, body: "<h1>\(escape(title))</h1>\n" + htmlSection(results))
    }

    /// Several leaderboards on one page, one `<h2>` section (table and charts) each.
    public static func html(sections: [Section], title: String) -> String {
        page(
            title: title,
            body: "<h1>\(escape(title))</h1>\n"
                + sections.map { "<h2>\(escape($0.title))</h2>\n" + htmlSection($0.results) }.joined())
    }

    static func htmlSection(_ results: [EvaluationResult]) -> String {
        let names = results.first?.metrics.map(\.name) ?? []
        var body = ""
        for kind in Set(results.map(\.protocolDescription)).sorted() {
            body += "<p class=\"protocol\">Protocol: \(escape(kind))</p>\n"
        }
        if let runs = results.compactMap(\.runCount).max() {
            body += "<p>Seeded models: mean ± sample standard deviation over \(runs) seeds</p>\n"
        }
        if let context = results.first?.context, !context.isEmpty {
            body +=
                "<p class=\"context\">"
                + context.keys.sorted().map { "\(escape($0)): <code>\(escape(context[$0]!))</code>" }
                .joined(separator: " · ") + "</p>\n"
        }
        body +=
            "<table><thead><tr><th>model</th>" + names.map { "<th>\(escape($0))</th>" }.joined()
            + "<th>fit s</th><th>users</th></tr></thead><tbody>\n"
        for result in results {
            body += "<tr><td>\(escape(result.model))</td>"
            for name in names {
                let best = results.compactMap { $0[name] }.max()
                let value = result[name]
                let cell = result.formatted(name) ?? "–"
                body +=
                    value != nil && value == best && results.count > 1 ? "<td><b>\(cell)</b></td>" : "<td>\(cell)</td>"
            }
            body +=
                "<td>\(result.fitSeconds.map { String(format: "%.2f", $0) } ?? "–")</td>"
                + "<td>\(result.evaluatedUserCount)</td></tr>\n"
        }
        body += "</tbody></table>\n<div class=\"charts\">\n"
        for name in names { body += barChart(metric: name, results: results) }
        if let primary = names.first(where: { $0.hasPrefix("ndcg") }) ?? names.first,
            results.contains(where: { $0.fitSeconds != nil })
        {
            body += scatter(metric: primary, results: results)
        }
        body += "</div>\n<h3>Definitions</h3><ul>\n"
        for metric in results.first?.metrics ?? [] {
            body += "<li><code>\(escape(metric.name))</code>: \(escape(metric.definition))</li>\n"
        }
        body += "</ul>\n"
        return body
    }

    /// A complete HTML page with the reports' style around `body`.
    public static func page(title: String, body: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>\(escape(title))</title>
        <style>
        body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
        table { border-collapse: collapse; margin: 1em 0; }
        th, td { padding: 4px 10px; border-bottom: 1px solid #ddd; text-align: right; }
        th:first-child, td:first-child { text-align: left; }
        .charts { display: flex; flex-wrap: wrap; gap: 16px; }
        .protocol { font-weight: 600; }
        svg text { font-size: 11px; fill: #333; }
        </style></head><body>
        \(body)</body></html>

        """
    }

    static func barChart(metric: String, results: [EvaluationResult]) -> String {
        let width = 320.0
        let barHeight = 18.0
        let left = 110.0
        let height = 30 + Double(results.count) * (barHeight + 6)
        let maximum = max(results.compactMap { $0[metric] }.max() ?? 0, 1e-12)
        var svg =
            "<svg width=\"\(Int(width))\" height=\"\(Int(height))\" role=\"img\" aria-label=\"\(escape(metric))\">"
        svg += "<text x=\"0\" y=\"14\" font-weight=\"bold\">\(escape(metric))</text>"
        for (index, result) in results.enumerated() {
            let value = result[metric] ?? 0
            let y = 24 + Double(index) * (barHeight + 6)
            let length = (width - left - 50) * value / maximum
            svg += "<text x=\"0\" y=\"\(y + 13)\">\(escape(result.model))</text>"
            svg += String(
                format: "<rect x=\"%.0f\" y=\"%.0f\" width=\"%.1f\" height=\"%.0f\" fill=\"#4a7fc1\"/>", left, y,
                length, barHeight)
            svg += String(format: "<text x=\"%.1f\" y=\"%.0f\">%.4f</text>", left + length + 4, y + 13, value)
        }
        return svg + "</svg>\n"
    }

    static func scatter(metric: String, results: [EvaluationResult]) -> String {
        let width = 320.0
        let height = 220.0
        let margin = 40.0
        let points = results.map { ($0.model, $0.fitSeconds ?? 0, $0[metric] ?? 0) }
        let maxTime = max(points.map(\.1).max() ?? 0, 1e-3)
        let maxValue = max(points.map(\.2).max() ?? 0, 1e-12)
        var svg =
            "<svg width=\"\(Int(width))\" height=\"\(Int(height))\" role=\"img\" "
            + "aria-label=\"\(escape(metric)) against training time\">"
        svg += "<text x=\"0\" y=\"14\" font-weight=\"bold\">\(escape(metric)) vs training seconds</text>"
        svg += axes(width: width, height: height, margin: margin)
        for (name, time, value) in points {
            let x = margin + (width - margin - 20) * time / maxTime
            let y = (height - margin) - (height - margin - 30) * value / maxValue
            svg += String(format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"#c1574a\"/>", x, y)
            svg += String(format: "<text x=\"%.1f\" y=\"%.1f\">", x + 6, y - 4) + escape(name) + "</text>"
        }
        svg += String(format: "<text x=\"%.0f\" y=\"%.0f\">%.2f s</text>", width - 60, height - margin + 16, maxTime)
        return svg + "</svg>\n"
    }

    /// The x and y axis lines of a chart `width` × `height` with its plot area `margin` from the left and
    /// bottom (30 from the top).
    public static func axes(width: Double, height: Double, margin: Double) -> String {
        String(
            format: "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"#999\"/>", margin, height - margin,
            width - 10, height - margin)
            + String(
                format: "<line x1=\"%.0f\" y1=\"30\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"#999\"/>", margin, margin,
                height - margin)
    }

    /// `text` safe inside HTML text and attribute values.
    public static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}

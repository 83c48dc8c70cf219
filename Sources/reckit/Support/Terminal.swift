import Foundation
import RecKit

/// Writing to the terminal: stderr for progress and messages, stdout for results only.
enum Terminal {
    static func error(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    /// Writes `text` to standard output. A reader that went away (`reckit … | head`) ends the
    /// output quietly instead of crashing on the broken pipe.
    static func output(_ text: String) {
        do { try FileHandle.standardOutput.write(contentsOf: Data(text.utf8)) } catch { exit(0) }
    }

    static var stderrIsTerminal: Bool { isatty(STDERR_FILENO) == 1 }

    /// Prints `object` (dictionaries, arrays, strings, numbers) as one line of JSON with sorted keys:
    /// every `--json` result goes through here.
    static func printJSON(_ object: Any) throws {
        print(
            String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
    }

    /// Runs `work`, showing `label` with elapsed seconds on stderr while it takes more than a second
    /// (only when stderr is a terminal), then a one-line summary unless `quiet`.
    static func withTicker<T>(_ label: String, quiet: Bool, _ work: () throws -> T) rethrows -> T {
        try withProgress(label, quiet: quiet) { _ in try work() }
    }

    /// `withTicker` for training: `work` gets a callback for each pass, shown after the label with a
    /// bar, the loss and the time left (on a terminal, redrawn in place; in a log, a line per tenth).
    static func withProgress<T>(
        _ label: String, quiet: Bool, _ work: (_ report: @escaping (TrainingUpdate) -> Void) throws -> T
    ) rethrows -> T {
        let start = Date()
        let ticker = quiet || !stderrIsTerminal ? nil : Ticker(label: label, start: start)
        ticker?.start()
        defer { ticker?.stop() }
        var lastLogged = -1
        var previous: (step: Int, status: String, logged: Bool)?
        let report: (TrainingUpdate) -> Void = { update in
            guard !quiet else { return }
            // A run that ended early (a validation run that stopped) shows its last line before the next.
            if ticker == nil, let last = previous, update.step <= last.step {
                if !last.logged { error("\(label) \(last.status)") }
                lastLogged = -1
            }
            let elapsed = Date().timeIntervalSince(start)
            let left = elapsed / Double(max(1, update.step)) * Double(max(0, update.total - update.step))
            var status =
                "\(bar(Double(update.step) / Double(max(1, update.total)), width: 20)) \(update.step)/\(update.total)"
            if let loss = update.loss { status += String(format: "  loss %.4f", Double(loss)) }
            if let validation = update.validation {
                status += String(format: "  %@ %.4f", validation.name, validation.value)
                if let best = update.best { status += String(format: " (best %.4f at %d)", best.value, best.step) }
            }
            status += String(format: "  ETA %.0f s", left)
            if let ticker {
                ticker.status = status
            } else {
                let tenth = update.step * 10 / max(1, update.total)
                let log = tenth != lastLogged
                if log {
                    lastLogged = tenth
                    error("\(label) \(status)")
                }
                previous = (update.step, status, log)
            }
        }
        let result = try work(report)
        ticker?.stop()
        if !quiet {
            error(String(format: "%@: done in %.2f s", label, Date().timeIntervalSince(start)))
        }
        return result
    }

    /// A text bar `[#####.....]` of `width` cells for `fraction` in 0…1.
    static func bar(_ fraction: Double, width: Int) -> String {
        let filled = Int((max(0, min(1, fraction)) * Double(width)).rounded())
        return String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
    }
}

/// Redraws `label … 3.4 s` on stderr every quarter second from a background thread.
final class Ticker: @unchecked Sendable {
    private let label: String
    private let startDate: Date
    private let lock = NSLock()
    private var running = false
    private var thread: Thread?
    private var currentStatus = ""
    /// Shown after the label (e.g. a training bar).
    var status: String {
        get {
            lock.lock()
            defer { lock.unlock() }
            return currentStatus
        }
        set {
            lock.lock()
            currentStatus = newValue
            lock.unlock()
        }
    }

    init(label: String, start: Date) {
        self.label = label
        self.startDate = start
    }

    func start() {
        lock.lock()
        running = true
        lock.unlock()
        let thread = Thread { [self] in
            var frame = 0
            let spinner = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"]
            Thread.sleep(forTimeInterval: 1)
            while isRunning {
                let elapsed = Date().timeIntervalSince(startDate)
                let clock = String(format: "%.1f s", elapsed)
                let line = "\r\u{1B}[2K\(spinner[frame % spinner.count]) \(label) \(clock)  \(status)"
                FileHandle.standardError.write(Data(line.utf8))
                frame += 1
                Thread.sleep(forTimeInterval: 0.25)
            }
        }
        self.thread = thread
        thread.start()
    }

    private var isRunning: Bool {
        lock.lock()
        defer { lock.unlock() }
        return running
    }

    func stop() {
        lock.lock()
        let wasRunning = running
        running = false
        lock.unlock()
        if wasRunning && Date().timeIntervalSince(startDate) > 1 {
            FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8))
        }
    }
}

/// A progress bar on stderr, `label [█████·····] 512/943`, redrawn at most ten times a second; silent
/// when stderr is not a terminal or when quiet.
final class ProgressBar: @unchecked Sendable {
    private let label: String
    private let enabled: Bool
    private let lock = NSLock()
    private var lastDraw = Date.distantPast

    init(_ label: String, quiet: Bool) {
        self.label = label
        enabled = !quiet && Terminal.stderrIsTerminal
    }

    func update(_ done: Int, _ total: Int) {
        guard enabled else { return }
        lock.lock()
        defer { lock.unlock() }
        let now = Date()
        guard now.timeIntervalSince(lastDraw) > 0.1 || done == total else { return }
        lastDraw = now
        let fraction = total > 0 ? Double(done) / Double(total) : 1
        FileHandle.standardError.write(Data("\r\(label) [\(Terminal.bar(fraction, width: 30))] \(done)/\(total)".utf8))
        if done == total { FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8)) }
    }
}

/// A problem found while running a well-formed command (an unknown user, an unreadable file): the
/// command prints it on one line and exits with 1, without the usage text that command-line
/// mistakes (`ValidationError`, exit 64) get.
struct RuntimeError: Error, Equatable, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

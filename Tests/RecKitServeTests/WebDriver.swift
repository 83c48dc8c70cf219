import AsyncHTTPClient
import Foundation
import Hummingbird

/// A small client of the W3C WebDriver protocol (what Selenium speaks) for Debian's `chromedriver`
/// driving headless `chromium`: enough to open a page, type, click, read text and take a screenshot.
final class WebDriver: @unchecked Sendable { // used from one test at a time
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// The browser and driver, when installed (Debian: `apt-get install chromium chromium-driver`).
    static var executables: (browser: String, driver: String)? {
        let browser = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].first {
            FileManager.default.isExecutableFile(atPath: $0)
        }
        let driver = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"].first {
            FileManager.default.isExecutableFile(atPath: $0)
        }
        guard let browser, let driver else { return nil }
        return (browser, driver)
    }

    let process = Process()
    let base: String
    var session = ""

    /// Starts chromedriver on a free loopback port and a headless browser session.
    init(browser: String, driver: String) async throws {
        let port = Int.random(in: 20_000..<40_000)
        base = "http://127.0.0.1:\(port)"
        process.executableURL = URL(fileURLWithPath: driver)
        process.arguments = ["--port=\(port)", "--allowed-ips=127.0.0.1"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        var ready = false
        var problem = ""
        for _ in 0..<100 where !ready {
            try await Task.sleep(for: .milliseconds(100))
            do { ready = (try await call("GET", "/status")["ready"] as? Bool) == true } catch { problem = "\(error)" }
        }
        guard ready else {
            stop()
            throw Failure(description: "chromedriver did not start on port \(port): \(problem)")
        }
        let options: [String: Any] = [
            "binary": browser,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,900",
            ],
        ]
        let created = try await call(
            "POST", "/session", ["capabilities": ["alwaysMatch": ["goog:chromeOptions": options]]])
        guard let id = created["sessionId"] as? String else {
            stop()
            throw Failure(description: "no session: \(created)")
        }
        session = id
    }

    deinit { stop() }

    /// Ends the browser session, then the driver (SIGKILL: a SIGTERMed chromedriver was seen to outlive
    /// the test run).
    func quit() async {
        if !session.isEmpty { _ = try? await call("DELETE", "/session/\(session)") }
        stop()
    }

    private func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// One WebDriver command; returns its `value` (an object, or `["value": x]` for a scalar or list).
    @discardableResult
    func call(_ method: String, _ path: String, _ body: [String: Any]? = nil) async throws -> [String: Any] {
        var request = HTTPClientRequest(url: base + path)
        request.method = .init(rawValue: method)
        if let body {
            request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body)))
            request.headers.add(name: "Content-Type", value: "application/json")
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
        let data = Data((try await response.body.collect(upTo: 64 << 20)).readableBytesView)
        let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
        let value = object["value"]
        if let error = (value as? [String: Any])?["error"] as? String {
            throw Failure(description: "\(method) \(path): \(error): \((value as? [String: Any])?["message"] ?? "")")
        }
        return value as? [String: Any] ?? ["value": value ?? NSNull()]
    }

    func open(_ url: String) async throws { try await call("POST", "/session/\(session)/url", ["url": url]) }

    /// Runs `script` in the page (its `arguments` are `args`) and returns what it returns.
    func run(_ script: String, _ args: [Any] = []) async throws -> Any {
        try await call("POST", "/session/\(session)/execute/sync", ["script": script, "args": args])["value"]
            ?? NSNull()
    }

    /// The text of every element `css` selects now, read in one step (no element can go stale between
    /// finding it and reading it while the page re-renders).
    func texts(_ css: String) async throws -> [String] {
        try await run("return [...document.querySelectorAll(arguments[0])].map(e => e.textContent)", [css])
            as? [String] ?? []
    }

    /// Waits (up to `seconds`) until the texts `css` selects satisfy `condition`; returns them.
    @discardableResult
    func wait(
        for css: String, seconds: Double = 20, until condition: ([String]) -> Bool = { !$0.isEmpty }
    ) async throws -> [String] {
        let deadline = Date().addingTimeInterval(seconds)
        var last: [String] = []
        while Date() < deadline {
            last = try await texts(css)
            if condition(last) { return last }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw Failure(description: "\(css) did not come as expected within \(seconds) s; last: \(last)")
    }

    /// Clicks the `index`th element `css` selects.
    func click(_ css: String, index: Int = 0) async throws {
        let done = try await run(
            "const e = document.querySelectorAll(arguments[0])[arguments[1]]; "
                + "if (!e) return false; e.click(); return true",
            [css, index])
        guard done as? Bool == true else { throw Failure(description: "no element \(index) for \(css)") }
    }

    /// Types `text` into the field `css` selects (replacing its value) as a person would.
    func type(_ text: String, into css: String) async throws {
        let found = try await call("POST", "/session/\(session)/element", ["using": "css selector", "value": css])
        guard let element = found.values.first as? String else { throw Failure(description: "no \(css)") }
        try await call("POST", "/session/\(session)/element/\(element)/clear", [:])
        try await call("POST", "/session/\(session)/element/\(element)/value", ["text": text])
    }

    /// A PNG of the page.
    func screenshot() async throws -> Data {
        let encoded = try await call("GET", "/session/\(session)/screenshot")["value"] as? String ?? ""
        return Data(base64Encoded: encoded) ?? Data()
    }
}

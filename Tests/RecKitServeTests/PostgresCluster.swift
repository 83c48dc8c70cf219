import Foundation
import _RecKitTestSupport

/// A throw-away PostgreSQL cluster for one test: `initdb` in a temporary folder, run as a non-root
/// user (PostgreSQL refuses root: `postgres`, else `nobody`, through `runuser`), listening on a free
/// loopback port and a socket in that folder; stopped with `pg_ctl stop -m immediate` and removed
/// afterwards, also when the test fails.
final class PostgresCluster: Sendable {
    /// The folder holding `initdb` and `pg_ctl`: the newest /usr/lib/postgresql/N/bin, else the PATH's.
    static let binaries: String? = {
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [])
            .compactMap(Int.init).sorted()
        for version in versions.reversed()
        where FileManager.default.isExecutableFile(atPath: "\(root)/\(version)/bin/pg_ctl") {
            return "\(root)/\(version)/bin"
        }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        return path.split(separator: ":").map(String.init).first {
            FileManager.default.isExecutableFile(atPath: $0 + "/initdb")
                && FileManager.default.isExecutableFile(atPath: $0 + "/pg_ctl")
        }
    }()

    /// Whether the tests that need PostgreSQL run: it is installed, or this is CI, where
    /// scripts/install-test-deps.sh installs it and a skip would hide a break.
    static let enabled = binaries != nil || ProcessInfo.processInfo.environment["CI"] == "true"
    static let missing = "PostgreSQL is not installed (apt-get install postgresql): its tests are skipped"

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    let folder = TemporaryDirectory()
    let port: Int
    let runAs: String?
    var data: String { folder.path + "/data" }
    /// A URL `reckit serve --events` and `PostgresEventStore.connect` take.
    var url: String { "postgres://reckit@127.0.0.1:\(port)/postgres?sslmode=disable" }

    private init(port: Int, runAs: String?) {
        self.port = port
        self.runAs = runAs
    }

    /// Runs `body` with a started cluster, and stops it afterwards.
    static func with<T>(_ body: (PostgresCluster) async throws -> T) async throws -> T {
        guard let binaries else { throw Failure(description: missing) }
        let runAs: String? = getuid() == 0 ? (getpwnam("postgres") != nil ? "postgres" : "nobody") : nil
        let cluster = PostgresCluster(port: try freePort(), runAs: runAs)
        if let runAs, let account = getpwnam(runAs) {
            guard chown(cluster.folder.path, account.pointee.pw_uid, account.pointee.pw_gid) == 0 else {
                throw Failure(description: "cannot give \(cluster.folder.path) to \(runAs)")
            }
        }
        try cluster.run(
            binaries + "/initdb", "-D", cluster.data, "-U", "reckit", "-A", "trust", "-E", "UTF8", "--locale=C",
            "--no-sync")
        defer { try? cluster.run(binaries + "/pg_ctl", "-D", cluster.data, "-m", "immediate", "-w", "stop") }
        try cluster.run(
            binaries + "/pg_ctl", "-D", cluster.data, "-l", cluster.folder.path + "/server.log", "-w", "-t", "60",
            "-o", "-p \(cluster.port) -k \(cluster.folder.path) -c listen_addresses=127.0.0.1", "start")
        return try await body(cluster)
    }

    /// Runs a PostgreSQL program as the cluster's user and waits for it.
    /// - Throws: `Failure` with the program's output (and the server's log) when it fails.
    func run(_ arguments: String...) throws {
        let command = runAs.map { ["/usr/sbin/runuser", "-u", $0, "--"] + arguments } ?? arguments
        let outputPath = folder.path + "/command.out"
        let status = try Self.spawn(command, output: outputPath)
        guard status == 0 else {
            let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
            let log = (try? String(contentsOfFile: folder.path + "/server.log", encoding: .utf8)) ?? ""
            throw Failure(description: "\(arguments.joined(separator: " ")) failed (\(status)): \(text)\n\(log)")
        }
    }

    /// Runs `command` with its output in the file `output`, no other descriptor inherited, and
    /// returns its exit status. Not Foundation's `Process`: it learns of the exit through a
    /// descriptor the child inherits, which the server `pg_ctl start` leaves running would keep open.
    static func spawn(_ command: [String], output: String) throws -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // Descriptors above 2 are closed by a shell before the program starts (glibc's closefrom
        // action is not visible from Swift): the server must not keep the test's sockets.
        let closing = #"for fd in /proc/$$/fd/*; do n=${fd##*/}; [ "$n" -gt 2 ] && eval "exec $n>&-"; done"#
        let command = ["/bin/bash", "-c", closing + #" 2>/dev/null; exec "$@""#, "bash"] + command
        let argv = command.map { strdup($0) } + [nil]
        defer { for argument in argv { free(argument) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, command[0], &actions, nil, argv, environ)
        guard spawned == 0 else { throw Failure(description: "cannot run \(command[0]): errno \(spawned)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { throw Failure(description: "waitpid failed: errno \(errno)") }
        }
        return status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }

    /// A loopback port nothing listens on now (the kernel's pick for a bound socket, released).
    static func freePort() throws -> Int {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw Failure(description: "no socket") }
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                bind(socket, address, length) == 0 && getsockname(socket, address, &length) == 0
            }
        }
        guard bound else { throw Failure(description: "cannot bind a loopback port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

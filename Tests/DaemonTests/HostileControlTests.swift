#if canImport(Glibc)
import Glibc
#endif
import DaemonControl
import Foundation
import RecorderCore
import Testing
import TestSupport

/// Hostile numbers, idle clients, foreign sockets and mutated request lines against the real control
/// socket of an in-process daemon (which never starts a session: a start that passed validation
/// would stop the test process).
@Suite(.serialized)
struct HostileControlTests {
    /// Numbers that trapped in the session (Int64 nanoseconds, UInt32 filter levels, pixel sums).
    static let hostileFields: [(field: String, value: String, mentions: String)] = [
        ("duration", "1e300", "--duration"),
        ("duration", "-1", "--duration"),
        ("region", "[9223372036854775000, 0, 100, 100]", "--region"),
        ("region", "\"0,0,9223372036854775807,10\"", "--region"),
        ("compression_level", "5000000000", "--compression-level"),
        ("compression_level", "23", "--compression-level"),
        ("state_rate", "1e-300", "--state-rate"),
        ("state_rate", "1e300", "--state-rate"),
        ("keyframe_interval", "9223372036854775807", "--keyframe-interval"),
        ("fps", "100000", "--fps"),
    ]

    @Test func startWithAnOutOfRangeNumberIsRefusedAndTheDaemonKeepsAnswering() throws {
        let daemon = try InProcessDaemon()
        for (field, value, mentions) in Self.hostileFields {
            let client = try daemon.client()
            let reply = client.request("{\"command\": \"start\", \"name\": \"n\", \"\(field)\": \(value)}")
            #expect(reply?["ok"] == false, "\(field)=\(value): \(String(describing: reply))")
            #expect(reply?["code"] == "bad-request")
            let message = reply?["error"]?.stringValue ?? ""
            #expect(message.contains(mentions) && (message.contains(" to ") || message.contains("at most")), "\(field)=\(value): \(message)")
        }
        let status = try daemon.client().request("{\"command\": \"status\"}")
        #expect(status?["ok"] == true && status?["state"] == "idle")
        #expect(daemon.shutdown())
    }

    @Test func configFileWithAnOutOfRangeNumberIsRejectedNamingTheFile() {
        for (field, value, mentions) in Self.hostileFields {
            let toml = "\(field) = \(value.replacingOccurrences(of: "\"", with: "'"))\n"
            do {
                _ = try DaemonConfiguration.parse(toml: toml, source: "/etc/recorder/recorderd.toml", baseDirectory: "/etc/recorder")
                Issue.record("accepted \(toml)")
            } catch {
                #expect(error.description.contains("/etc/recorder/recorderd.toml"), "\(error.description)")
                #expect(error.description.contains(mentions), "\(toml): \(error.description)")
            }
        }
    }

    @Test func configHeaderTheTOMLParserWouldAbortOnIsRejected() {
        do {
            _ = try DaemonConfiguration.parse(toml: "fps = 30\n[\u{1B}]\n", source: "/etc/recorder/recorderd.toml", baseDirectory: "/etc/recorder")
            Issue.record("accepted")
        } catch {
            #expect(error.description.contains("/etc/recorder/recorderd.toml: line 2: a table header"), "\(error.description)")
        }
    }

    @Test func textFieldsHaveSizeLimits() throws {
        let daemon = try InProcessDaemon()
        let long = String(repeating: "w", count: 5000)
        let replies = [
            try daemon.client().request("{\"command\": \"start\", \"name\": \"n\", \"window\": \"\(long)\"}"),
            try daemon.client().request("{\"command\": \"start\", \"name\": \"n\", \"meta\": {\"\(long)\": \"v\"}}"),
            try daemon.client().request("{\"command\": \"start\", \"name\": \"n\", \"meta\": {\"k\\u001b[2J\": \"v\"}}"),
        ]
        for reply in replies {
            #expect(reply?["ok"] == false && reply?["code"] == "bad-request", "\(String(describing: reply))")
        }
        #expect(replies[2]?["error"]?.stringValue?.contains("\\x1b[2J") == true, "\(String(describing: replies[2]))")
        #expect(daemon.shutdown())
    }

    /// 64 connections that never send a line neither hold the daemon for 300 s nor lock out a client with a request.
    @Test func idleClientsAreClosedAndCannotStarveANewOne() throws {
        let daemon = try InProcessDaemon()
        let idle = try (0..<64).map { _ in try daemon.client() }
        Thread.sleep(forTimeInterval: 0.3)
        let newcomer = try daemon.client()
        let reply = newcomer.request("{\"command\": \"status\"}", timeout: 3)
        #expect(reply?["ok"] == true, "a client with a request is served while 64 idle ones are connected: \(String(describing: reply))")
        // Every idle connection is closed within the idle timeout (5 s) plus margin.
        // One of them made room for the newcomer: it is told so before the close.
        var told = 0
        let closed = idle.filter { client in
            guard let line = client.readLine(timeout: 10) else { return true }
            told += 1
            return line.contains("make room") && client.isClosed(timeout: 3)
        }.count
        #expect(closed == 64)
        #expect(told == 1)
        #expect(daemon.shutdown())
    }

    @Test func aStaleSocketOfAnotherUserIsNotReplaced() throws {
        let folder = try TestPaths.temporaryDirectory("foreign-socket")
        defer { try? FileManager.default.removeItem(at: folder) }
        chmod(folder.path, 0o755)
        let path = folder.appendingPathComponent("control.sock").path
        // A socket nobody listens on, owned by "nobody": a stale socket a user left behind.
        let stale = try UnixSocket.listen(path: path)
        close(stale)
        #expect(chown(path, 65534, 65534) == 0)
        #expect(throws: RecorderError.self) { _ = try UnixSocket.listen(path: path) }
        var status = stat()
        #expect(lstat(path, &status) == 0 && status.st_uid == 65534, "the other user's socket is left in place")
        do {
            _ = try UnixSocket.listen(path: path)
        } catch {
            #expect(error.description.contains("owned by uid 65534"), "\(error.description)")
        }
        // Our own stale socket is still replaced.
        #expect(chown(path, geteuid(), getegid()) == 0)
        let replaced = try UnixSocket.listen(path: path)
        close(replaced)
    }

    @Test func aSocketFolderOthersControlIsRefused() throws {
        let folder = try TestPaths.temporaryDirectory("foreign-folder")
        defer { try? FileManager.default.removeItem(at: folder) }
        let theirs = folder.appendingPathComponent("theirs")
        try FileManager.default.createDirectory(at: theirs, withIntermediateDirectories: false)
        #expect(chown(theirs.path, 65534, 65534) == 0)
        do {
            _ = try UnixSocket.listen(path: theirs.appendingPathComponent("control.sock").path)
            Issue.record("listened in a folder owned by uid 65534")
        } catch {
            #expect(error.description.contains("belongs to uid 65534"), "\(error.description)")
        }
        let open = folder.appendingPathComponent("open")
        try FileManager.default.createDirectory(at: open, withIntermediateDirectories: false)
        chmod(open.path, 0o777)
        #expect(throws: RecorderError.self) { _ = try UnixSocket.listen(path: open.appendingPathComponent("control.sock").path) }
        var status = stat()
        #expect(lstat(open.appendingPathComponent("control.sock").path, &status) != 0, "nothing was created there")
    }

    /// Mutated request lines: each parses to a valid request (with options in range) or a clean
    /// refusal; the ones that are not a valid start also go over the real socket and get one reply.
    @Test func mutatedRequestLinesGetOneCleanReplyEach() throws {
        let daemon = try InProcessDaemon()
        let seeds = try TestPaths.fuzzCorpus("control").flatMap { $0.split(separator: UInt8(ascii: "\n")).map(Array.init) }
        #expect(seeds.count >= 6)
        var mutator = InputMutator()
        var sent = 0
        var accepted = 0
        try mutator.run(corpus: seeds) { line in
            let single = line.filter { $0 != UInt8(ascii: "\n") }
            if Self.isValidStart(single) {
                accepted += 1
                return
            }
            guard sent < 400 else { return }
            sent += 1
            let client = try daemon.client()
            client.send(bytes: single + [UInt8(ascii: "\n")])
            let reply = try #require(client.readLine(timeout: 5).flatMap { try? JSONValue.parse($0) }, "no reply to \(String(decoding: single, as: UTF8.self))")
            #expect(reply["ok"] == true || (reply["ok"] == false && reply["error"]?.stringValue != nil))
        }
        #expect(sent > 50)
        let status = try daemon.client().request("{\"command\": \"status\"}")
        #expect(status?["ok"] == true)
        #expect(daemon.shutdown())
    }

    /// Parses and validates a start line as the daemon does; a valid one has every number in range.
    private static func isValidStart(_ line: [UInt8]) -> Bool {
        guard case .start(_, let fields)? = try? ControlRequest.parse(line) else { return false }
        var options = SessionOptions(output: "/check/n.h5")
        do {
            for key in fields.keys.sorted() { try SessionOptionFields.apply(key, fields[key] ?? .null, to: &options, baseDirectory: nil) }
            try options.validate()
        } catch {
            return false
        }
        #expect(options.duration.map { $0 > 0 && $0 <= SessionOptions.Limits.maxDurationSeconds } ?? true)
        #expect(SessionOptions.Limits.stateRate.contains(options.stateRate))
        #expect(options.region.map { $0.x <= 32_767 && $0.width <= 32_767 } ?? true)
        return true
    }
}

#if canImport(Glibc)
import Glibc
#endif
import DaemonControl
import RecorderCore
import Foundation
import Testing
import TestSupport

/// The control protocol over the real socket: every malformed request gets one clear error line
/// and the daemon keeps serving.
@Suite(.serialized)
struct ControlProtocolTests {
    /// Each malformed line, and words its error must contain.
    static let malformed: [(label: String, bytes: [UInt8], expected: String)] = [
        ("garbage bytes", [0xff, 0xfe, 0x00, 0x81, 0x41], "not valid UTF-8"),
        ("invalid JSON", Array("{\"command\": \"status\"".utf8), "not valid JSON"),
        ("bare word", Array("status".utf8), "not valid JSON"),
        ("empty line", [], "empty request"),
        ("JSON list", Array("[\"status\"]".utf8), "must be a JSON object"),
        ("JSON number", Array("42".utf8), "must be a JSON object"),
        ("JSON string", Array("\"status\"".utf8), "must be a JSON object"),
        ("no command", Array("{\"name\": \"a\"}".utf8), "no \"command\""),
        ("command not a string", Array("{\"command\": 7}".utf8), "\"command\" must be a string, got an integer"),
        ("unknown command", Array("{\"command\": \"explode\"}".utf8), "unknown command \"explode\""),
        ("unknown field", Array("{\"command\": \"status\", \"verbose\": true}".utf8), "unknown field \"verbose\""),
        ("start without name", Array("{\"command\": \"start\"}".utf8), "start needs a \"name\""),
        ("name not a string", Array("{\"command\": \"start\", \"name\": 5}".utf8), "\"name\" must be a string"),
        ("fps as string", Array("{\"command\": \"start\", \"name\": \"a\", \"fps\": \"60\"}".utf8), "'fps' must be an integer, got a string"),
        ("fps fractional", Array("{\"command\": \"start\", \"name\": \"a\", \"fps\": 59.5}".utf8), "'fps' must be an integer, got a number"),
        ("fps out of range", Array("{\"command\": \"start\", \"name\": \"a\", \"fps\": 0}".utf8), "--fps must be 1 to 240"),
        ("codec unknown", Array("{\"command\": \"start\", \"name\": \"a\", \"codec\": \"gzip\"}".utf8), "'codec' must be one of"),
        ("region wrong", Array("{\"command\": \"start\", \"name\": \"a\", \"region\": [1, 2, 3]}".utf8), "'region' must be"),
        ("input wrong", Array("{\"command\": \"start\", \"name\": \"a\", \"input\": 3}".utf8), "'input' must be a string or a list"),
        ("input relative replay", Array("{\"command\": \"start\", \"name\": \"a\", \"input\": \"replay:x.txt\"}".utf8), "must be absolute"),
        ("meta wrong", Array("{\"command\": \"start\", \"name\": \"a\", \"meta\": [\"novalue\"]}".utf8), "KEY=VALUE"),
        ("redact not bool", Array("{\"command\": \"start\", \"name\": \"a\", \"redact_keys\": \"yes\"}".utf8), "'redact_keys' must be a boolean"),
        ("motion reference not bool", Array("{\"command\": \"start\", \"name\": \"a\", \"motion_reference\": 1}".utf8), "'motion_reference' must be a boolean"),
        ("motion reference without residuals", Array("{\"command\": \"start\", \"name\": \"a\", \"motion_reference\": true, \"keyframe_interval\": 1}".utf8), "--motion-reference needs --keyframe-interval above 1"),
        ("unknown option", Array("{\"command\": \"start\", \"name\": \"a\", \"colour\": \"red\"}".utf8), "unknown field \"colour\" for start"),
        ("name empty", Array("{\"command\": \"start\", \"name\": \"\"}".utf8), "session name is empty"),
        ("name 65 bytes", Array("{\"command\": \"start\", \"name\": \"\(String(repeating: "a", count: 65))\"}".utf8), "65 bytes long; at most 64"),
        ("name leading dot", Array("{\"command\": \"start\", \"name\": \".hidden\"}".utf8), "starts with a dot"),
        ("name dot dot", Array("{\"command\": \"start\", \"name\": \"..\"}".utf8), "starts with a dot"),
        ("name slash", Array("{\"command\": \"start\", \"name\": \"a/b\"}".utf8), "contains '/'"),
        ("name traversal", Array("{\"command\": \"start\", \"name\": \"x/../../etc/passwd\"}".utf8), "contains '/'"),
        ("name unicode", Array("{\"command\": \"start\", \"name\": \"caf\u{e9}\"}".utf8), "contains U+00E9"),
        ("name space", Array("{\"command\": \"start\", \"name\": \"a b\"}".utf8), "contains ' '"),
        ("stop name bad", Array("{\"command\": \"stop\", \"name\": \"../x\"}".utf8), "starts with a dot"),
        ("stop when idle", Array("{\"command\": \"stop\"}".utf8), "no session is running"),
    ]

    @Test func everyMalformedRequestGetsOneErrorLineAndTheDaemonKeepsServing() throws {
        let daemon = try InProcessDaemon()
        let client = try daemon.client()
        for (label, bytes, expected) in Self.malformed {
            client.send(bytes: bytes + [UInt8(ascii: "\n")])
            let line = try #require(client.readLine(), "no reply to \(label)")
            let reply = try #require(try? JSONValue.parse(line), "reply to \(label) is not JSON: \(line)")
            #expect(reply["ok"] == false, "\(label)")
            let error = reply["error"]?.stringValue ?? ""
            #expect(error.contains(expected), "\(label): error was '\(error)'")
            #expect(reply["code"]?.stringValue != nil, "\(label)")
            // The same connection still answers: exactly one reply per request, nothing extra queued.
            let status = try #require(client.request("{\"command\": \"status\"}"), "no status after \(label)")
            #expect(status["ok"] == true && status["state"] == "idle", "after \(label): \(status)")
        }
        // Nothing was created by any of those starts.
        #expect((try? FileManager.default.contentsOfDirectory(atPath: daemon.outputDirectory)) == [])
        #expect(daemon.shutdown())
    }

    @Test func stopWhenIdleSaysNotRunning() throws {
        let daemon = try InProcessDaemon()
        let reply = try #require(try daemon.client().request("{\"command\": \"stop\"}"))
        #expect(reply["ok"] == false)
        #expect(reply["code"] == "not-running")
        #expect(daemon.shutdown())
    }

    @Test func oversizeLineIsRefusedAndClosedWhileOthersAreServed() throws {
        let daemon = try InProcessDaemon()
        let big = try daemon.client()
        let payload = "{\"command\": \"status\", \"pad\": \"" + String(repeating: "x", count: 70_000) + "\"}\n"
        big.send(payload)
        let line = try #require(big.readLine())
        let reply = try #require(try? JSONValue.parse(line))
        #expect(reply["ok"] == false)
        #expect(reply["code"] == "too-large")
        #expect(reply["error"]?.stringValue?.contains("65536 bytes") == true)
        #expect(big.isClosed())
        // Exactly at the limit is fine: a 65536-byte line is parsed (and refused for its content only).
        let exact = try daemon.client()
        let filler = String(repeating: " ", count: 65_536 - "{\"command\": \"status\"}".utf8.count)
        let atLimit = try #require(exact.request("{\"command\": \"status\"}" + filler))
        #expect(atLimit["ok"] == true)
        let other = try #require(try daemon.client().request("{\"command\": \"status\"}"))
        #expect(other["ok"] == true)
        #expect(daemon.shutdown())
    }

    @Test func halfSentLineTimesOutWithoutBlockingOthers() throws {
        var limits = ControlServer.Limits()
        // Long enough that five requests fit before it on a loaded machine; the order is what is checked.
        limits.lineTimeoutNanoseconds = 5_000_000_000
        let daemon = try InProcessDaemon(limits: limits)
        let slow = try daemon.client()
        let began = Date()
        slow.send("{\"command\": \"sta")
        for _ in 0..<5 {
            let reply = try #require(try daemon.client().request("{\"command\": \"status\"}", timeout: 30))
            #expect(reply["ok"] == true)
        }
        // A daemon blocked by the slow client would serve these only after its timeout reply.
        #expect(slow.readLine(timeout: 0) == nil, "other clients were served while the slow one sat on half a line")
        let line = try #require(slow.readLine(timeout: 30))
        let reply = try #require(try? JSONValue.parse(line))
        #expect(reply["code"] == "timeout")
        #expect(reply["error"]?.stringValue?.contains("incomplete") == true)
        #expect(Date().timeIntervalSince(began) >= 4.5, "the half line was given its 5 s")
        #expect(slow.isClosed())
        #expect(daemon.shutdown())
    }

    @Test func pipelinedRequestsGetOneReplyEachInOrder() throws {
        let daemon = try InProcessDaemon()
        let client = try daemon.client()
        client.send("{\"command\": \"status\"}\n{\"command\": \"list\"}\nnot json\n{\"command\": \"status\"}\n")
        let replies = (0..<4).compactMap { _ in client.readLine().flatMap { try? JSONValue.parse($0) } }
        #expect(replies.count == 4)
        #expect(replies.first?["state"] == "idle")
        #expect(replies.dropFirst().first?["sessions"] != nil)
        #expect(replies.dropFirst(2).first?["ok"] == false)
        #expect(replies.last?["state"] == "idle")
        #expect(client.readLine(timeout: 0.3) == nil)
        #expect(daemon.shutdown())
    }

    @Test func lastRequestWithoutNewlineBeforeShutdownOfWriteSideIsAnswered() throws {
        let daemon = try InProcessDaemon()
        let client = try daemon.client()
        client.send("{\"command\": \"status\"}")
        shutdown(client.fd, Int32(SHUT_WR))
        let reply = try #require(client.readLine().flatMap { try? JSONValue.parse($0) })
        #expect(reply["ok"] == true)
        #expect(client.isClosed())
        #expect(daemon.shutdown())
    }

    @Test func statusWhenIdleReportsOutputDirAndFreeDisk() throws {
        let daemon = try InProcessDaemon()
        let reply = try #require(try daemon.client().request("{\"command\": \"status\"}"))
        #expect(reply["ok"] == true)
        #expect(reply["state"] == "idle")
        #expect(reply["output_dir"]?.stringValue == daemon.outputDirectory)
        #expect((reply["free_disk_bytes"]?.intValue ?? 0) > 0)
        #expect(reply["last_session"] == .null)
        #expect(daemon.shutdown())
    }

    @Test func listShowsSessionFilesWithSizesAndTimes() throws {
        let daemon = try InProcessDaemon()
        let directory = daemon.outputDirectory
        try Data(repeating: 7, count: 1234).write(to: URL(fileURLWithPath: directory + "/beta.h5"))
        try Data(repeating: 1, count: 10).write(to: URL(fileURLWithPath: directory + "/alpha.h5"))
        try Data("x".utf8).write(to: URL(fileURLWithPath: directory + "/notes.txt"))
        try FileManager.default.createSymbolicLink(atPath: directory + "/link.h5", withDestinationPath: directory + "/beta.h5")
        let reply = try #require(try daemon.client().request("{\"command\": \"list\"}"))
        #expect(reply["ok"] == true)
        let sessions = try #require(reply["sessions"]?.arrayValue)
        #expect(sessions.map { $0["name"]?.stringValue ?? "" } == ["alpha", "beta"])
        #expect(sessions.map { $0["size_bytes"]?.intValue ?? -1 } == [10, 1234])
        #expect(sessions.allSatisfy { $0["recording"] == false })
        let modified = sessions.first?["modified_utc"]?.stringValue ?? ""
        #expect(modified.hasPrefix(String(ISO8601DateFormatter().string(from: Date()).prefix(10))))
        #expect(daemon.shutdown())
    }

    @Test("one list spends a bounded time on new summaries; the next list continues with the rest")
    func listBoundsTheTimeSpentOnSummaries() throws {
        // Each summary takes 1 s, as a slow or damaged file can up to its tool's deadline.
        let daemon = try InProcessDaemon(summarize: { path in
            usleep(1_000_000)
            return .object(["file": .string(path)])
        })
        for index in 0..<8 {
            try Data(repeating: 1, count: 10).write(to: URL(fileURLWithPath: daemon.outputDirectory + "/s\(index).h5"))
        }
        let started = MonotonicClock.now()
        let first = try #require(try daemon.client().request("{\"command\": \"list\"}", timeout: 30))
        let seconds = Double(MonotonicClock.now() - started) / 1e9
        let firstSummaries = try #require(first["sessions"]?.arrayValue).filter { $0["summary"] != nil }.count
        // The budget (3 s) plus the one summary in flight when it ran out, not 8 s.
        #expect(seconds < Double(RecorderDaemon.listInspectionBudgetNs) / 1e9 + 2.5, "list took \(seconds) s")
        #expect(firstSummaries >= 1 && firstSummaries < 8)
        #expect(first["note"]?.stringValue?.contains("left out") == true)
        let second = try #require(try daemon.client().request("{\"command\": \"list\"}", timeout: 30))
        let secondSummaries = try #require(second["sessions"]?.arrayValue).filter { $0["summary"] != nil }.count
        #expect(secondSummaries > firstSummaries)
        #expect(daemon.shutdown())
    }

    @Test func startWithAnExistingNameIsRefused() throws {
        let daemon = try InProcessDaemon()
        try Data(repeating: 0, count: 8).write(to: URL(fileURLWithPath: daemon.outputDirectory + "/taken.h5"))
        let reply = try #require(try daemon.client().request("{\"command\": \"start\", \"name\": \"taken\", \"input\": \"none\"}"))
        #expect(reply["ok"] == false)
        #expect(reply["code"] == "exists")
        #expect(reply["error"]?.stringValue?.contains("taken") == true)
        #expect(try Data(contentsOf: URL(fileURLWithPath: daemon.outputDirectory + "/taken.h5")).count == 8)
        #expect(daemon.shutdown())
    }

    @Test func socketIsPrivateAndRemovedAtShutdown() throws {
        let daemon = try InProcessDaemon()
        var status = stat()
        #expect(stat(daemon.socketPath, &status) == 0)
        #expect(status.st_mode & 0o777 == 0o600)
        #expect(status.st_mode & S_IFMT == S_IFSOCK)
        #expect(daemon.shutdown())
        #expect(!FileManager.default.fileExists(atPath: daemon.socketPath))
    }

    @Test func secondDaemonOnTheSameSocketIsRefusedAndAStaleSocketIsReplaced() throws {
        let daemon = try InProcessDaemon()
        var settings = RecorderDaemon.Settings(arguments: DaemonArguments(socketPath: daemon.socketPath, outputDirectory: daemon.outputDirectory), environment: [:])
        settings.limits = ControlServer.Limits()
        let second = try RecorderDaemon(settings: settings, hooks: DaemonHooks(makeSession: { _ in preconditionFailure("no session") }), logger: .init(label: "second"))
        #expect(throws: RecorderError.storage("another daemon is already listening on \(daemon.socketPath)")) { try second.start() }
        // The first one is untouched.
        #expect(try daemon.client().request("{\"command\": \"status\"}")?["ok"] == true)
        #expect(daemon.shutdown())

        // A socket file nobody listens on (a killed daemon's) is replaced.
        let stale = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(daemon.socketPath.utf8)) }
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(stale, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
        close(stale)
        #expect(FileManager.default.fileExists(atPath: daemon.socketPath))
        let third = try RecorderDaemon(settings: settings, hooks: DaemonHooks(makeSession: { _ in preconditionFailure("no session") }), logger: .init(label: "third"))
        try third.start()
        #expect(try ControlTestClient(path: daemon.socketPath).request("{\"command\": \"status\"}")?["ok"] == true)
        third.requestShutdown(reason: "test")
        #expect(third.run())
    }
}

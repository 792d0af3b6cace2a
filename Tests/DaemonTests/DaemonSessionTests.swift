#if canImport(Glibc)
import Glibc
#endif
import DaemonControl
import Foundation
import Testing
import TestSupport

/// The real `recorderd` and `recorder` binaries recording a real Xvfb display.
///
/// Pending until the binaries are integrated: they run as soon as `recorderd --help` is the real
/// daemon's (the placeholder before integration is not), and must pass from then on.
@Suite(.serialized, .enabled(if: DaemonProcess.binaryIsReal, "needs the integrated recorderd binary"))
struct DaemonSessionTests {
    @Test func startStatusStopListThroughTheCLIProduceASealedFile() throws {
        let display = try XvfbDisplay()
        let daemon = try DaemonProcess(display: display)
        let cli = TestPaths.recorderCLI
        let socket = ["--socket", daemon.socketPath]

        let started = try runTool(cli, ["start", "--name", "first", "--input", "none", "--display", display.name, "--json"] + socket)
        #expect(started.status == 0, "start: \(started.stderr)")
        let startReply = try #require(try? JSONValue.parse(started.stdout))
        #expect(startReply["ok"] == true)
        #expect(startReply["file"]?.stringValue == daemon.outputDirectory + "/first.h5")

        // One session at a time, and the refusal names the running one.
        let second = try runTool(cli, ["start", "--name", "second", "--input", "none", "--display", display.name] + socket)
        #expect(second.status == 1)
        #expect(second.stderr.contains("'first'"), "second start: \(second.stderr)")

        // Asked until 30 frames are written (a loaded machine may drop frames; the rate is what got through).
        var live = JSONValue.null
        let deadline = Date().addingTimeInterval(60)
        repeat {
            let status = try runTool(cli, ["status", "--json"] + socket)
            #expect(status.status == 0, "status: \(status.stderr)")
            live = try #require(try? JSONValue.parse(status.stdout))
            if (live["frames_written"]?.intValue ?? 0) > 30 && (live["fps_last_second"]?.intValue ?? 0) > 0 { break }
            Thread.sleep(forTimeInterval: 0.2)
        } while Date() < deadline
        #expect(live["state"] == "recording")
        #expect(live["name"] == "first")
        #expect((live["frames_written"]?.intValue ?? 0) > 30, "\(live)")
        #expect((live["fps_last_second"]?.intValue ?? 0) > 0, "\(live)")
        #expect(live["input_devices"]?.intValue == 0)
        #expect((live["free_disk_bytes"]?.intValue ?? 0) > 0)
        #expect(live["bytes_written"]?.intValue != nil)
        #expect(live["state_samples"]?.intValue != nil)

        let human = try runTool(cli, ["status"] + socket)
        #expect(human.status == 0 && human.stdout.contains("session 'first': recording"), "\(human.stdout)")

        let stopped = try runTool(cli, ["stop", "--json"] + socket)
        #expect(stopped.status == 0, "stop: \(stopped.stderr)")
        let final = try #require(try? JSONValue.parse(stopped.stdout))
        #expect(final["clean_shutdown"] == true)
        #expect(final["end_reason"] == "stopped")

        let check = try runPython("""
            import h5py, hdf5plugin, json, sys
            with h5py.File(sys.argv[1], "r") as f:
                print(json.dumps({"clean": int(f.attrs["clean_shutdown"]), "reason": str(f.attrs["end_reason"]),
                                  "frames": int(f["video/frames"].shape[0]), "events": int(f["input/events"].shape[0])}))
            """, arguments: [daemon.outputDirectory + "/first.h5"])
        #expect(check.status == 0, "\(check.stderr)")
        let file = try #require(try? JSONValue.parse(check.stdout))
        #expect(file["clean"] == 1)
        #expect(file["reason"] == "stopped")
        #expect((file["frames"]?.intValue ?? 0) >= (final["frames_written"]?.intValue ?? 1))
        #expect(file["events"] == 0)

        let idle = try runTool(cli, ["status"] + socket)
        #expect(idle.status == 3)
        let stopAgain = try runTool(cli, ["stop"] + socket)
        #expect(stopAgain.status == 3)

        let listed = try runTool(cli, ["list", "--json"] + socket)
        #expect(listed.status == 0)
        let sessions = try #require((try? JSONValue.parse(listed.stdout))?["sessions"]?.arrayValue)
        #expect(sessions.map { $0["name"]?.stringValue } == ["first"])
        #expect(sessions.first?["summary"]?["clean_shutdown"] == true)

        let reused = try runTool(cli, ["start", "--name", "first", "--input", "none", "--display", display.name] + socket)
        #expect(reused.status == 1)
        #expect(reused.stderr.contains("already exists"))
        #expect(daemon.terminate() == 0)
    }

    @Test func sigtermSealsTheFileAndSpeaksSdNotify() throws {
        let display = try XvfbDisplay()
        let directory = try TestPaths.temporaryDirectory("notify-session")
        defer { try? FileManager.default.removeItem(at: directory) }
        let listener = try SystemdNotifyTests.NotifyListener(directory: directory, abstract: false)
        let daemon = try DaemonProcess(display: display, environment: ["NOTIFY_SOCKET": listener.name, "WATCHDOG_USEC": "400000"])
        let ready = listener.collect(timeout: 30) { $0.contains { $0.hasPrefix("READY=1") } }
        #expect(ready.contains { $0.hasPrefix("READY=1") })

        let client = DaemonClient(socketPath: daemon.socketPath)
        let reply = try client.send(.start(name: "signalled", options: ["input": "none", "display": .string(display.name)]))
        #expect(reply["ok"] == true, "\(reply)")
        let during = listener.collect(timeout: 30) { messages in
            messages.contains { $0.hasPrefix("STATUS=recording signalled:") } && messages.filter { $0 == "WATCHDOG=1" }.count >= 3
        }
        #expect(during.contains { $0.hasPrefix("STATUS=recording signalled:") && $0.contains("frames") }, "\(during)")
        #expect(during.filter { $0 == "WATCHDOG=1" }.count >= 3, "every recorder thread makes progress: \(during)")
        // Pings only say the threads run; the sealed file below must hold a frame, so one is written first.
        #expect(daemon.waitForFramesWritten(1), "no frame written")

        #expect(daemon.terminate() == 0)
        let after = listener.collect(timeout: 10) { $0.contains { $0.hasPrefix("STOPPING=1") } }
        #expect(after.contains { $0.hasPrefix("STOPPING=1") })
        let check = try runPython("""
            import h5py, hdf5plugin, sys
            with h5py.File(sys.argv[1], "r") as f:
                print(int(f.attrs["clean_shutdown"]), f.attrs["end_reason"], f["video/frames"].shape[0])
            """, arguments: [daemon.outputDirectory + "/signalled.h5"])
        #expect(check.status == 0, "\(check.stderr)")
        let fields = check.stdout.split(separator: " ").map(String.init)
        #expect(fields.first == "1")
        #expect(fields.dropFirst().first == "signal")
        #expect((Int(fields.last?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 0) > 0)
    }

    @Test func aServerDyingInsideXOpenDisplayFailsTheStartAndTheDaemonKeepsServing() throws {
        let dying = try DyingXServer()
        defer { dying.stop() }
        let display = try XvfbDisplay()
        let daemon = try DaemonProcess(display: display)
        let client = DaemonClient(socketPath: daemon.socketPath)
        let refused = try client.send(.start(name: "dying", options: ["input": "none", "display": .string(dying.name)]))
        #expect(refused["ok"] == false, "\(refused)")
        // Whichever of the capture and state threads connects first reports it, in the same words.
        #expect(refused["error"]?.stringValue?.contains("cannot open display \(dying.name)") == true, "\(refused)")
        let started = try client.send(.start(name: "after", options: ["input": "none", "display": .string(display.name), "duration": 1]))
        #expect(started["ok"] == true, "the daemon still records after the failed start: \(started)")
        #expect(daemon.terminate() == 0)
    }

    /// The CLI's format choice (none: the default) and the format version the daemon's file gets.
    static let formatChoices: [([String], Int)] = [([], 2), (["--motion-reference"], 2), (["--format-1"], 1), (["--no-motion-reference"], 1)]

    @Test("the CLI's motion-reference choice reaches the daemon's file", arguments: formatChoices)
    func motionReferenceFromTheCLIReachesTheFile(flags: [String], version: Int) throws {
        let display = try XvfbDisplay()
        let daemon = try DaemonProcess(display: display)
        let socket = ["--socket", daemon.socketPath]
        let started = try runTool(TestPaths.recorderCLI, ["start", "--name", "moving", "--input", "none", "--display", display.name]
                                  + flags + socket)
        #expect(started.status == 0, "start: \(started.stderr)")
        #expect(daemon.waitForFramesWritten(1), "no frame written")
        #expect(try runTool(TestPaths.recorderCLI, ["stop"] + socket).status == 0)
        let check = try runPython("""
            import h5py, json, sys
            with h5py.File(sys.argv[1], "r") as f:
                shifts = f["video/reference_shift"].shape if "video/reference_shift" in f else [0, 0]
                print(json.dumps({"version": int(f.attrs["format_version"]), "frames": int(f["video/frames"].shape[0]),
                                  "shifts": list(shifts)}))
            """, arguments: [daemon.outputDirectory + "/moving.h5"])
        #expect(check.status == 0, "\(check.stderr)")
        let file = try #require(try? JSONValue.parse(check.stdout))
        #expect(file["version"]?.intValue == Int64(version))
        #expect((file["frames"]?.intValue ?? 0) > 0)
        if version == 2 {
            #expect(file["shifts"]?.arrayValue?.map(\.intValue) == [file["frames"]?.intValue, 2])
        } else {
            #expect(file["shifts"]?.arrayValue?.map(\.intValue) == [0, 0], "format 1 has no /video/reference_shift")
        }
        #expect(daemon.terminate() == 0)
    }

    @Test func aKilledDaemonsFileIsRecoveredAtTheNextStart() throws {
        let display = try XvfbDisplay()
        let first = try DaemonProcess(display: display)
        let reply = try DaemonClient(socketPath: first.socketPath).send(.start(name: "killed", options: ["input": "none", "display": .string(display.name)]))
        #expect(reply["ok"] == true, "\(reply)")
        #expect(first.waitForFramesWritten(30), "no frames written")
        first.kill()

        let listener = try SystemdNotifyTests.NotifyListener(directory: first.directory, abstract: false)
        let second = try DaemonProcess(display: display, environment: ["NOTIFY_SOCKET": listener.name], directory: first.directory)
        let messages = listener.collect(timeout: 30) { $0.contains { $0.hasPrefix("READY=1") } }
        let extend = messages.firstIndex { $0.hasPrefix("EXTEND_TIMEOUT_USEC=") && $0.contains("STATUS=checking 1 of 1 session files") }
        let ready = messages.firstIndex { $0.hasPrefix("READY=1") }
        #expect(extend != nil && ready != nil && extend! < ready!, "recovery asks systemd for time before READY: \(messages)")
        let check = try runPython("""
            import h5py, hdf5plugin, sys
            with h5py.File(sys.argv[1], "r") as f:
                print(int(f.attrs["clean_shutdown"]), f.attrs["end_reason"], f["video/frames"].shape[0])
            """, arguments: [second.outputDirectory + "/killed.h5"])
        #expect(check.status == 0, "plain h5py opens the recovered file: \(check.stderr)")
        let fields = check.stdout.split(separator: " ").map(String.init)
        #expect(fields.first == "0")
        #expect(fields.dropFirst().first == "recovered")
        #expect(second.log.contains("recovered a session"), "\(second.log)")
        #expect(second.terminate() == 0)
    }

    @Test func aSplitSessionOverTheSocketNamesItsCurrentPartAndReservesItsName() throws {
        let display = try XvfbDisplay(width: 320, height: 240)
        let daemon = try DaemonProcess(display: display)
        let client = DaemonClient(socketPath: daemon.socketPath, timeoutSeconds: 30)
        let started = try client.send(.start(name: "split", options: [
            "input": "none", "display": .string(display.name), "split_every": "1s",
        ]))
        #expect(started["ok"] == true, "\(started)")
        #expect(started["file"]?.stringValue == daemon.outputDirectory + "/split.part0001.h5", "\(started)")
        // status names the part being written, whichever it is by now; wait (generously) for part 2.
        var file = ""
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline && !file.hasSuffix(".part0002.h5") && !file.hasSuffix(".part0003.h5") {
            file = (try? client.send(.status))?["file"]?.stringValue ?? ""
            Thread.sleep(forTimeInterval: 0.1)
        }
        #expect(file.hasPrefix(daemon.outputDirectory + "/split.part000"), "status names a part: \(file)")
        let stopped = try runTool(TestPaths.recorderCLI, ["stop", "--json", "--socket", daemon.socketPath])
        #expect(stopped.status == 0, "\(stopped.stderr)")
        let names = try FileManager.default.contentsOfDirectory(atPath: daemon.outputDirectory)
        #expect(names.contains("split.manifest.json") && names.contains("split.part0001.h5") && names.contains("split.part0002.h5"), "\(names)")
        #expect(!names.contains("split.h5"), "\(names)")
        let manifest = try JSONValue.parse(String(contentsOfFile: daemon.outputDirectory + "/split.manifest.json", encoding: .utf8))
        #expect(manifest["state"]?.stringValue == "ended")
        #expect((manifest["parts"]?.arrayValue?.count ?? 0) >= 2)
        // The name is taken by the manifest and the parts, split or not.
        let again = try client.send(.start(name: "split", options: ["input": "none", "display": .string(display.name)]))
        #expect(again["ok"] == false)
        #expect(again["error"]?.stringValue?.contains("already exists") == true, "\(again)")
        let bad = try client.send(.start(name: "other", options: ["input": "none", "split_every": "soon"]))
        #expect(bad["ok"] == false)
        #expect(bad["error"]?.stringValue?.contains("split_every") == true, "\(bad)")
        #expect(daemon.terminate() == 0)
    }

    @Test func aKilledDaemonsSplitSessionIsRecoveredAndItsManifestUpdatedAtTheNextStart() throws {
        let display = try XvfbDisplay(width: 320, height: 240)
        let first = try DaemonProcess(display: display)
        let client = DaemonClient(socketPath: first.socketPath, timeoutSeconds: 30)
        let reply = try client.send(.start(name: "cut", options: ["input": "none", "display": .string(display.name), "split_every": 1]))
        #expect(reply["ok"] == true, "\(reply)")
        var file = ""
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline && !file.hasSuffix(".part0003.h5") {
            file = (try? client.send(.status))?["file"]?.stringValue ?? ""
            Thread.sleep(forTimeInterval: 0.05)
        }
        #expect(file.hasSuffix(".part0003.h5"), "\(file)")
        Thread.sleep(forTimeInterval: 1.2)
        first.kill()

        let second = try DaemonProcess(display: display, directory: first.directory)
        let manifest = try JSONValue.parse(String(contentsOfFile: second.outputDirectory + "/cut.manifest.json", encoding: .utf8))
        #expect(manifest["state"]?.stringValue == "recovered", "\(manifest)")
        let parts = manifest["parts"]?.arrayValue ?? []
        #expect(parts.count >= 3)
        #expect(parts.last?["state"]?.stringValue == "recovered", "\(parts.last ?? .null)")
        #expect(parts.dropLast().allSatisfy { $0["state"]?.stringValue == "sealed" }, "\(parts)")
        #expect(second.terminate() == 0)
    }

    @Test func cliExitCodesWithoutADaemon() throws {
        let result = try runTool(TestPaths.recorderCLI, ["status", "--socket", "/nonexistent/recorder.sock"])
        #expect(result.status == 69)
        #expect(result.stderr.contains("not reachable"))
        let usage = try runTool(TestPaths.recorderCLI, ["start", "--name", ".hidden", "--socket", "/nonexistent/recorder.sock"])
        #expect(usage.status == 64)
    }
}

/// A `recorderd` child process with its own socket and output directory.
final class DaemonProcess {
    let directory: URL
    let socketPath: String
    let outputDirectory: String
    private let process = Process()
    private let logPath: String

    /// True when the built recorderd is the real daemon (not the pre-integration placeholder).
    static let binaryIsReal: Bool = {
        guard FileManager.default.isExecutableFile(atPath: TestPaths.recorderDaemon),
              let result = try? runTool(TestPaths.recorderDaemon, ["--help"]) else { return false }
        // ArgumentParser writes "USAGE:".
        return result.status == 0 && result.stdout.lowercased().contains("usage: recorderd")
    }()

    init(display: XvfbDisplay, environment: [String: String] = [:], directory reuse: URL? = nil, arguments: [String] = []) throws {
        directory = try reuse ?? TestPaths.temporaryDirectory("recorderd")
        socketPath = directory.appendingPathComponent("run/control.sock").path
        outputDirectory = directory.appendingPathComponent("sessions").path
        logPath = directory.appendingPathComponent("recorderd-\(UUID().uuidString.prefix(6)).log").path
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: TestPaths.recorderDaemon)
        process.arguments = ["--socket", socketPath, "--output-dir", outputDirectory] + arguments
        var env = ProcessInfo.processInfo.environment
        env["DISPLAY"] = display.name
        env.removeValue(forKey: "NOTIFY_SOCKET")
        env.merge(environment) { $1 }
        process.environment = env
        let log = FileHandle(forWritingAtPath: logPath)
        process.standardOutput = log
        process.standardError = log
        try process.run()
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if let reply = try? DaemonClient(socketPath: socketPath, timeoutSeconds: 2).send(.status), reply["ok"] == true { return }
            if !process.isRunning { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw RecorderTestFailure("recorderd did not answer on \(socketPath): \(log_())")
    }

    /// The daemon's process id (for /proc/PID/fd and signals).
    var pid: Int32 { process.processIdentifier }

    /// Asks `status` until the running session wrote `count` frames; false after a generous minute.
    func waitForFramesWritten(_ count: Int) -> Bool {
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if let reply = try? DaemonClient(socketPath: socketPath, timeoutSeconds: 10).send(.status),
               (reply["frames_written"]?.intValue ?? 0) >= count { return true }
            Thread.sleep(forTimeInterval: 0.1)
        }
        return false
    }

    private func log_() -> String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }
    var log: String { log_() }

    /// SIGTERM, then the exit status (within 100 s, the daemon's own stop limit plus margin).
    func terminate() -> Int32 {
        guard process.isRunning else { return process.terminationStatus }
        Foundation.kill(process.processIdentifier, SIGTERM)
        let deadline = Date().addingTimeInterval(100)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning { kill(); return -1 }
        return process.terminationStatus
    }

    /// SIGKILL, as a crash would.
    func kill() {
        guard process.isRunning else { return }
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    deinit { kill() }
}

/// A test set-up step that failed, with what the daemon said.
struct RecorderTestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

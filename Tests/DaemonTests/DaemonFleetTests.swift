import DaemonControl
import Foundation
import RecorderCore
import Testing
import TestSupport

/// recorderd's upload hook and disk bounds: the config keys, and a real daemon recording split parts.
@Suite(.serialized)
struct DaemonFleetTests {
    @Test func hostileFleetSettingsGiveClearErrors() {
        let cases: [(String, String)] = [
            ("on_part_sealed = []", "1 to 256 arguments"),
            ("on_part_sealed = \"rclone copy {path}\"", "must be a list of strings"),
            ("on_part_sealed = [\"rclone\", 3]", "element 2 must be a string"),
            ("on_part_sealed = [\"\"]", "program"),
            ("on_part_sealed = [\"up\", \"{pth}\"]", "unknown placeholder {pth}"),
            ("on_part_sealed = [\"up\"]\nupload_timeout = -5", "upload_timeout"),
            ("on_part_sealed = [\"up\"]\nupload_attempts = 99999999999", "upload_attempts"),
            ("upload_attempts = 3", "need on_part_sealed"),
            ("min_free = -1", "min_free"),
            ("min_free = \"lots\"", "'min_free' must be a size"),
            ("quota = \"99999999T\"", "quota"),
            ("quota = 5", "quota must be"),
            ("quota = 1.5", "'quota' must be bytes"),
            ("delete_uploaded_parts = true\nquota = \"1G\"", "delete_uploaded_parts needs on_part_sealed"),
            ("delete_uploaded_parts = \"yes\"", "must be a boolean"),
        ]
        for (text, expected) in cases {
            do {
                _ = try DaemonConfiguration.parse(toml: text, source: "fleet.toml", baseDirectory: "/")
                Issue.record("accepted \(text)")
            } catch {
                #expect(error.description.contains(expected), "\(text): \(error.description)")
                #expect(error.description.contains("fleet.toml"), "\(text): \(error.description)")
            }
        }
    }

    @Test func fleetSettingsReachTheSessionDefaultsButNotRequests() throws {
        let configuration = try DaemonConfiguration.parse(toml: """
            on_part_sealed = ["rclone", "copy", "{path}", "remote:bucket/{session}/"]
            upload_timeout = 30
            upload_attempts = 3
            min_free = "2G"
            quota = 1073741824
            delete_uploaded_parts = true
            """, source: "fleet.toml", baseDirectory: "/")
        let options = configuration.sessionDefaults
        #expect(options.uploadHook == UploadHook(command: ["rclone", "copy", "{path}", "remote:bucket/{session}/"], timeoutSeconds: 30, attempts: 3))
        #expect(options.diskBounds == DiskBounds(minFreeBytes: 2 << 30, quotaBytes: 1 << 30, deleteUploadedParts: true))
        var fromRequest = SessionOptions(output: "")
        #expect(throws: ControlError.self) { try SessionOptionFields.apply("on_part_sealed", .array(["sh"]), to: &fromRequest, baseDirectory: nil) }
        #expect(throws: ControlError.self) { try SessionOptionFields.apply("quota", "1T", to: &fromRequest, baseDirectory: nil) }
    }

    @Test(.enabled(if: DaemonProcess.binaryIsReal, "needs the integrated recorderd binary"))
    func aSplitSessionUploadsItsPartsAndListAndStatusShowThem() throws {
        let display = try XvfbDisplay(width: 320, height: 240)
        let directory = try TestPaths.temporaryDirectory("recorderd-fleet")
        defer { try? FileManager.default.removeItem(at: directory) }
        let remote = directory.appendingPathComponent("remote").path
        try FileManager.default.createDirectory(atPath: remote, withIntermediateDirectories: true)
        let hook = directory.appendingPathComponent("copy.sh").path
        try "#!/bin/sh\nset -e\ncp \"$1\" \"\(remote)/\"\necho \"$2 $3\" >> \"\(remote)/calls\"\n".write(toFile: hook, atomically: true, encoding: .utf8)
        chmod(hook, 0o755)
        let config = directory.appendingPathComponent("recorderd.toml").path
        try """
            split_every = 1
            input = ["none"]
            on_part_sealed = ["\(hook)", "{path}", "{session}", "{part}"]
            quota = "50G"
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let daemon = try DaemonProcess(display: display, directory: directory, arguments: ["--config", config])
        defer { _ = daemon.terminate() }
        let cli = TestPaths.recorderCLI
        let socket = ["--socket", daemon.socketPath]

        let started = try runTool(cli, ["start", "--name", "fleet", "--display", display.name] + socket)
        #expect(started.status == 0, "start: \(started.stderr) \(daemon.log)")
        var live = JSONValue.null
        let deadline = Date().addingTimeInterval(90)
        repeat {
            live = (try? DaemonClient(socketPath: daemon.socketPath, timeoutSeconds: 10).send(.status)) ?? .null
            if (live["report"]?["uploads"]?["uploaded"]?.intValue ?? 0) >= 2 { break }
            Thread.sleep(forTimeInterval: 0.2)
        } while Date() < deadline
        let report = try #require(live["report"])
        #expect((report["parts_sealed"]?.intValue ?? 0) >= 2, "\(live)")
        #expect((report["uploads"]?["uploaded"]?.intValue ?? 0) >= 2, "\(live)")
        #expect(report["disk"]?["quota_bytes"]?.intValue == 50 << 30, "\(live)")
        #expect((report["disk"]?["quota_left_bytes"]?.intValue ?? 0) > 0, "\(live)")
        let human = try runTool(cli, ["status"] + socket)
        #expect(human.stdout.contains("uploads: ") && human.stdout.contains("quota "), "\(human.stdout)")

        let stopped = try runTool(cli, ["stop", "--json"] + socket)
        #expect(stopped.status == 0, "stop: \(stopped.stderr)")

        // A hostile manifest beside it: listed with its error, the daemon keeps answering.
        try Data("{\"format\": \"recorder-session-manifest\", \"parts\": [".utf8).write(to: URL(fileURLWithPath: daemon.outputDirectory + "/broken.manifest.json"))
        let listed = try runTool(cli, ["list", "--json"] + socket)
        #expect(listed.status == 0, "list: \(listed.stderr)")
        let reply = try #require(try? JSONValue.parse(listed.stdout))
        let sessions = reply["sessions"]?.arrayValue ?? []
        let fleet = try #require(sessions.first { $0["name"] == "fleet" })
        #expect(fleet["split"] == true)
        let partCount = fleet["part_count"]?.intValue ?? 0
        #expect(partCount >= 2)
        #expect(fleet["uploads"]?["uploaded"]?.intValue == partCount, "every part uploaded after the drain: \(fleet)")
        #expect(!sessions.contains { ($0["name"]?.stringValue ?? "").hasPrefix("fleet.part") }, "parts are listed under their session")
        let broken = try #require(sessions.first { $0["name"] == "broken" })
        #expect(broken["manifest_error"]?.stringValue != nil)
        let text = try runTool(cli, ["list"] + socket)
        #expect(text.stdout.contains("fleet") && text.stdout.contains("sealed") && text.stdout.contains("bad manifest"), "\(text.stdout)")
        let calls = try String(contentsOfFile: remote + "/calls", encoding: .utf8)
        #expect(calls.contains("fleet 1"))
    }
}

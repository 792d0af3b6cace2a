import Foundation
import Testing
import TestSupport

/// How sessions end: display lost, SIGKILL then recover, full disk, signals, metadata.
@Suite(.serialized)
final class RecordLifecycleTests {
    let directory: URL

    init() throws {
        directory = try TestPaths.temporaryDirectory("lifecycle")
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    private func movingScene(on display: XvfbDisplay) throws -> BackgroundProcess {
        let scene = try BackgroundProcess("/usr/bin/env", ["python3", TestScripts.movingScene, display.name, "120"])
        Thread.sleep(forTimeInterval: 0.5)
        return scene
    }

    @Test func killingTheXServerEndsWithDisplayLostAndASealedFile() throws {
        let display = try XvfbDisplay(width: 320, height: 240)
        let scene = try movingScene(on: display)
        defer { scene.terminate() }
        let file = directory.appendingPathComponent("lost.h5").path
        let recorder = try BackgroundProcess(TestPaths.recorderCLI, ["record", "--display", display.name, "--output", file, "--input", "none", "--quiet"])
        // Counted from the first recorded frame: a loaded machine can take seconds to start the binary.
        #expect(recorder.waitForStandardError("recorder: recording", timeout: 30), "\(recorder.stderr)")
        Thread.sleep(forTimeInterval: 2)
        let killedAt = Date()
        display.kill()
        let status = recorder.waitForExit(timeout: 5)
        #expect(status != nil, "recorder must end within 5 s of the display going away")
        #expect(Date().timeIntervalSince(killedAt) < 5)
        recorder.terminate()

        let plain = try sessionCheck("plain-open", file)
        let attrs = plain["attrs"] as? [String: Any] ?? [:]
        #expect(attrs["end_reason"] as? String == "display-lost", "\(recorder.stderr)")
        #expect(attrs["clean_shutdown"] as? Int == 1)
        #expect((plain["frames"] as? Int ?? 0) > 60)
        let decoded = try sessionCheck("decode-all", file)
        #expect(decoded["decoded"] as? Int == plain["frames"] as? Int)
    }

    @Test func aServerDyingInsideXOpenDisplayIsACleanStartFailure() throws {
        let dying = try DyingXServer()
        defer { dying.stop() }
        let file = directory.appendingPathComponent("never.h5").path
        let result = try runTool(TestPaths.recorderCLI, ["record", "--display", dying.name, "--output", file, "--input", "none", "--quiet"])
        #expect(result.status == 1)
        // Xlib's default handlers would have printed "X connection ... broken" (or nothing) and exited.
        #expect(result.stderr.contains("recorder: cannot start:") && result.stderr.contains("cannot open display \(dying.name)"),
                "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: file))
    }

    @Test func sigkillThenRecoverKeepsEveryFrameUpToOneSecondBeforeTheKill() throws {
        let display = try XvfbDisplay(width: 320, height: 240)
        defer { display.stop() }
        let scene = try movingScene(on: display)
        defer { scene.terminate() }
        let file = directory.appendingPathComponent("killed.h5").path
        let recorder = try BackgroundProcess(TestPaths.recorderCLI, ["record", "--display", display.name, "--output", file, "--input", "none", "--quiet"])
        #expect(recorder.waitForStandardError("recorder: recording", timeout: 30), "\(recorder.stderr)")
        // A random moment between 2 and 4 s into the recording.
        Thread.sleep(forTimeInterval: Double.random(in: 2...4))
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let killedAtNs = Int(now.tv_sec) * 1_000_000_000 + Int(now.tv_nsec)
        recorder.send(SIGKILL)
        _ = recorder.waitForExit(timeout: 5)

        let recover = try runTool(TestPaths.recorderCLI, ["recover", file])
        #expect(recover.status == 0, "\(recover.stderr)")
        let plain = try sessionCheck("plain-open", file)
        let attrs = plain["attrs"] as? [String: Any] ?? [:]
        #expect(attrs["end_reason"] as? String == "recovered")
        let decoded = try sessionCheck("decode-all", file)
        let frames = plain["frames"] as? Int ?? 0
        #expect(frames > 60)
        #expect(decoded["decoded"] as? Int == frames)
        let lastNs = decoded["last_ts"] as? Int ?? 0
        #expect(lastNs >= killedAtNs - 1_000_000_000, "frames up to 1 s before the kill must survive (last frame \(Double(killedAtNs - lastNs) / 1e9) s before the kill)")
        let summary = try sessionCheck("summary", file)
        #expect(summary["tick_gaps"] as? Int == 0, "no frame may be missing in the middle")
    }

    @Test func fullDiskEndsWithDiskFullAndAReadableFile() throws {
        let display = try XvfbDisplay(width: 320, height: 240)
        defer { display.stop() }
        let scene = try movingScene(on: display)
        defer { scene.terminate() }
        let mount = directory.appendingPathComponent("tiny")
        try FileManager.default.createDirectory(at: mount, withIntermediateDirectories: true)
        let mounted = try runTool("/bin/mount", ["-t", "tmpfs", "-o", "size=3m", "tmpfs", mount.path])
        try #require(mounted.status == 0, "mounting a tmpfs needs root: \(mounted.stderr)")
        defer { _ = try? runTool("/bin/umount", ["-l", mount.path]) }
        let file = mount.appendingPathComponent("full.h5").path
        let result = try runTool(TestPaths.recorderCLI, ["record", "--display", display.name, "--output", file, "--input", "none", "--codec", "none", "--keyframe-interval", "1", "--duration", "20", "--quiet"])
        #expect(result.status == 1, "a full disk is a failed session: \(result.stderr)")
        let plain = try sessionCheck("plain-open", file)
        let attrs = plain["attrs"] as? [String: Any] ?? [:]
        #expect(attrs["end_reason"] as? String == "disk-full", "\(result.stderr)")
        let decoded = try sessionCheck("decode-all", file)
        #expect((decoded["decoded"] as? Int ?? 0) > 0)
    }

    @Test func sigintEndsCleanlyWithSignalAndMetaIsStored() throws {
        let display = try XvfbDisplay(width: 320, height: 240)
        defer { display.stop() }
        let file = directory.appendingPathComponent("signal.h5").path
        let recorder = try BackgroundProcess(TestPaths.recorderCLI, [
            "record", "--display", display.name, "--output", file, "--input", "none", "--quiet", "--json",
            "--meta", "game=openttd", "--meta", "player=p1",
        ])
        Thread.sleep(forTimeInterval: 1.5)
        recorder.send(SIGINT)
        let status = recorder.waitForExit(timeout: 10)
        #expect(status == 0, "\(recorder.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(recorder.stdout.utf8)) as? [String: Any]
        #expect(report?["endReason"] as? String == "signal")
        let summary = try sessionCheck("summary", file)
        let attrs = summary["attrs"] as? [String: Any] ?? [:]
        #expect(attrs["end_reason"] as? String == "signal")
        #expect(summary["meta"] as? [String: String] == ["game": "openttd", "player": "p1"])
        let mode = try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int
        #expect(mode == 0o600, "session files are private")
    }
}

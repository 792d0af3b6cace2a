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
        #expect(scene.waitForOutput("ready", timeout: 60), "\(scene.stderr)")
        return scene
    }

    /// Polls the file a recorder is writing (SWMR) until it shows `rows` flushed frames; returns what it saw last.
    private func waitForFlushedFrames(_ file: String, rows: Int, recorder: BackgroundProcess) -> [String: Any] {
        var seen: [String: Any] = [:]
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline && recorder.isRunning {
            if let now = try? sessionCheck("frame-rows", file, ["live"]) { seen = now }
            if (seen["rows"] as? Int ?? 0) >= rows { break }
            Thread.sleep(forTimeInterval: 0.2)
        }
        return seen
    }

    @Test func killingTheXServerEndsWithDisplayLostAndASealedFile() throws {
        let display = try XvfbDisplay(width: 320, height: 240)
        let scene = try movingScene(on: display)
        defer { scene.terminate() }
        let file = directory.appendingPathComponent("lost.h5").path
        let recorder = try BackgroundProcess(TestPaths.recorderCLI, ["record", "--display", display.name, "--output", file, "--input", "none", "--quiet"])
        // Counted from the first recorded frame: a loaded machine can take seconds to start the binary.
        #expect(recorder.waitForStandardError("recorder: recording", timeout: 60), "\(recorder.stderr)")
        let flushed = waitForFlushedFrames(file, rows: 60, recorder: recorder)["rows"] as? Int ?? 0
        #expect(flushed >= 60, "the recording never flushed 60 frames: \(recorder.stderr)")
        display.kill()
        // It notices by itself (generous limit: a loaded machine is slow to seal, never stuck).
        let status = recorder.waitForExit(timeout: 60)
        #expect(status != nil, "recorder must end by itself once the display went away")
        recorder.terminate()

        let plain = try sessionCheck("plain-open", file)
        let attrs = plain["attrs"] as? [String: Any] ?? [:]
        #expect(attrs["end_reason"] as? String == "display-lost", "\(recorder.stderr)")
        #expect(attrs["clean_shutdown"] as? Int == 1)
        #expect((plain["frames"] as? Int ?? 0) >= flushed, "every frame flushed before the loss is in the sealed file")
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

    @Test func sigkillThenRecoverKeepsEveryFrameThatReachedTheFile() throws {
        let display = try XvfbDisplay(width: 320, height: 240)
        defer { display.stop() }
        let scene = try movingScene(on: display)
        defer { scene.terminate() }
        let file = directory.appendingPathComponent("killed.h5").path
        let recorder = try BackgroundProcess(TestPaths.recorderCLI, ["record", "--display", display.name, "--output", file, "--input", "none", "--quiet"])
        #expect(recorder.waitForStandardError("recorder: recording", timeout: 60), "\(recorder.stderr)")
        // What reached the file, as a reader sees it: at least 60 flushed frames, then a random moment more.
        _ = waitForFlushedFrames(file, rows: 60, recorder: recorder)
        Thread.sleep(forTimeInterval: Double.random(in: 0...2))
        let seen = try sessionCheck("frame-rows", file, ["live"])
        recorder.send(SIGKILL)
        #expect(recorder.waitForExit(timeout: 30) != nil)
        let seenRows = seen["rows"] as? Int ?? 0
        #expect(seenRows >= 60, "\(seen["lengths"] ?? "no rows")")

        let recover = try runTool(TestPaths.recorderCLI, ["recover", file])
        #expect(recover.status == 0, "\(recover.stderr)")
        let plain = try sessionCheck("plain-open", file)
        let attrs = plain["attrs"] as? [String: Any] ?? [:]
        #expect(attrs["end_reason"] as? String == "recovered")
        let decoded = try sessionCheck("decode-all", file)
        let frames = plain["frames"] as? Int ?? 0
        #expect(decoded["decoded"] as? Int == frames)
        // Every frame that reached the file before the kill survives, with its tick and time unchanged;
        // a tick the recording lost under load was lost before the file, and is no recovery's business.
        let after = try sessionCheck("frame-rows", file)
        #expect(frames >= seenRows, "recovery kept \(frames) frames, the file showed \(seenRows) before the kill")
        #expect(after["rows"] as? Int == frames, "every per-frame dataset is cut to the frames kept: \(after["lengths"] ?? "")")
        let ticksSeen = seen["ticks"] as? [Int] ?? []
        let ticksAfter = after["ticks"] as? [Int] ?? []
        let firstChangedTick = ticksSeen.indices.first { $0 >= ticksAfter.count || ticksSeen[$0] != ticksAfter[$0] }
        #expect(firstChangedTick == nil, "the frames seen before the kill keep their ticks; row \(firstChangedTick ?? -1) differs")
        let timesSeen = seen["timestamps"] as? [Int] ?? []
        let timesAfter = after["timestamps"] as? [Int] ?? []
        #expect(timesAfter.starts(with: timesSeen), "the frames seen before the kill keep their timestamps")
        #expect(zip(ticksAfter, ticksAfter.dropFirst()).allSatisfy { $0 < $1 }, "ticks only increase")
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
        // The signal handler is in place once it records; a loaded machine takes a while to get there.
        #expect(recorder.waitForStandardError("recorder: recording", timeout: 60), "\(recorder.stderr)")
        recorder.send(SIGINT)
        let status = recorder.waitForExit(timeout: 60)
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

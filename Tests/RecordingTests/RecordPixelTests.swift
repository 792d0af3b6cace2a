import Foundation
import Testing
import TestSupport

/// `recorder record` end to end under a private Xvfb: painted pixels come back exactly.
@Suite(.serialized)
final class RecordPixelTests {
    let display: XvfbDisplay
    let directory: URL

    init() throws {
        display = try XvfbDisplay(width: 320, height: 240)
        directory = try TestPaths.temporaryDirectory("pixels")
    }

    deinit {
        display.stop()
        try? FileManager.default.removeItem(at: directory)
    }

    private func record(_ name: String, _ arguments: [String]) throws -> (ToolResult, String) {
        let file = directory.appendingPathComponent("\(name).h5").path
        let result = try runTool(TestPaths.recorderCLI, ["record", "--display", display.name, "--output", file, "--input", "none", "--quiet"] + arguments)
        return (result, file)
    }

    /// Records while `painter` moves its window: the moves start once the recording runs and the
    /// recording stops (SIGINT) once the painter held its last position, whatever the load.
    private func recordWhileMoving(_ name: String, _ painter: BackgroundProcess, _ arguments: [String]) throws -> (Int32?, String, String) {
        let file = directory.appendingPathComponent("\(name).h5").path
        let recorder = try BackgroundProcess(TestPaths.recorderCLI, ["record", "--display", display.name, "--output", file, "--input", "none", "--quiet"] + arguments)
        defer { recorder.terminate() }
        #expect(recorder.waitForStandardError("recorder: recording", timeout: 60), "\(recorder.stderr)")
        painter.send(SIGUSR1)
        #expect(painter.waitForOutput("moved", timeout: 60), "\(painter.stderr)")
        recorder.send(SIGINT)
        return (recorder.waitForExit(timeout: 60), recorder.stderr, file)
    }

    @Test func rootImageComesBackExactForEveryFrame() throws {
        let image = try writeRandomImage(width: 320, height: 240, seed: 1, in: directory)
        let painter = try BackgroundProcess("/usr/bin/env", ["python3", TestScripts.paintImage, display.name, image, "320", "240", "root"])
        defer { painter.terminate() }
        #expect(painter.waitForOutput("ready", timeout: 60), "\(painter.stderr)")

        let (result, file) = try record("root", ["--duration", "2"])
        #expect(result.status == 0, "\(result.stderr)")
        let check = try sessionCheck("frames-equal", file, [image, "320", "240"])
        let frames = check["frames"] as? Int ?? 0
        let summary = try sessionCheck("summary", file)
        let ticks = TickAccounting(summary: summary)
        // 2 s at 60 fps is 120 ticks: each one is stored or reported lost (a loaded machine may drop some).
        #expect(ticks.isComplete && ticks.accountedTicks >= 110, "\(ticks)")
        #expect(frames == ticks.frames && frames > 0)
        #expect(check["mismatched"] as? Int == 0, "first mismatch: \(String(describing: check["first_bad"]))")
        #expect((check["references"] as? Int ?? 0) > 0, "identical frames should be stored as residuals")

        let attrs = summary["attrs"] as? [String: Any] ?? [:]
        #expect(attrs["format"] as? String == "recorder-session")
        #expect(attrs["format_version"] as? Int == 1)
        #expect(attrs["end_reason"] as? String == "duration")
        #expect(attrs["clean_shutdown"] as? Int == 1)
        #expect(summary["ticks_strictly_increasing"] as? Bool == true)
        #expect(summary["shape"] as? [Int] == [frames, 240, 320, 3])
    }

    @Test(arguments: ["zstd", "lz4", "none"])
    func regionIsTheExactSubRectangle(codec: String) throws {
        let image = try writeRandomImage(width: 320, height: 240, seed: 2, in: directory)
        let painter = try BackgroundProcess("/usr/bin/env", ["python3", TestScripts.paintImage, display.name, image, "320", "240", "root"])
        defer { painter.terminate() }
        #expect(painter.waitForOutput("ready", timeout: 60), "\(painter.stderr)")

        let (result, file) = try record("region-\(codec)", ["--duration", "1", "--region", "40,30,200,100", "--codec", codec, "--keyframe-interval", "7"])
        #expect(result.status == 0, "\(result.stderr)")
        let check = try sessionCheck("frames-equal", file, [image, "320", "240", "40", "30", "200", "100"])
        let ticks = try TickAccounting(file: file)
        #expect(ticks.isComplete && ticks.accountedTicks >= 50, "\(ticks)")
        #expect((check["frames"] as? Int ?? 0) == ticks.frames && ticks.frames > 0)
        #expect(check["mismatched"] as? Int == 0, "first mismatch: \(String(describing: check["first_bad"]))")
    }

    @Test func movingWindowIsFollowedPixelExact() throws {
        let image = try writeRandomImage(width: 120, height: 90, seed: 3, in: directory)
        let title = "pixeltest-window-\(UInt32.random(in: 0...UInt32.max))"
        let painter = try BackgroundProcess("/usr/bin/env", [
            "python3", TestScripts.paintImage, display.name, image, "120", "90", "window", "10", "10", title,
            "100:50,150:90,30:120,180:20",
        ])
        defer { painter.terminate() }
        #expect(painter.waitForOutput("ready", timeout: 60), "\(painter.stderr)")

        let (status, stderr, file) = try recordWhileMoving("window", painter, ["--window", title])
        #expect(status == 0, "\(stderr)")
        let check = try sessionCheck("frames-equal", file, [image, "120", "90"])
        let ticks = try TickAccounting(file: file)
        // Five positions held 0.4 s each (2 s, of which tick 0 may come up to 0.25 s after the log line
        // that starts the moves): every tick stored or reported lost.
        #expect(ticks.isComplete && ticks.accountedTicks >= 90, "\(ticks)")
        #expect((check["frames"] as? Int ?? 0) == ticks.frames)
        #expect(check["mismatched"] as? Int == 0, "first mismatch: \(String(describing: check["first_bad"]))")
        #expect((check["distinct_origins"] as? Int ?? 0) >= 4, "the window moved four times; origins must follow")
    }

    @Test func panningViewIsStoredAgainstShiftedReferencesPixelExact() throws {
        // A 480x360 window larger than the 320x240 screen pans across it: the screen always shows
        // one 320x240 crop of the image, shifted a few pixels per step.
        let image = try writeRandomImage(width: 480, height: 360, seed: 4, in: directory)
        let steps = (1...16).map { (x: -4 * $0, y: -2 * $0) }
        let painter = try BackgroundProcess("/usr/bin/env", [
            "python3", TestScripts.paintImage, display.name, image, "480", "360", "window", "0", "0", "pan-test",
            steps.map { "\($0.x):\($0.y)" }.joined(separator: ","), "0.08",
        ])
        defer { painter.terminate() }
        #expect(painter.waitForOutput("ready", timeout: 60), "\(painter.stderr)")

        let (status, stderr, file) = try recordWhileMoving("pan", painter, ["--motion-reference"])
        #expect(status == 0, "\(stderr)")
        let offsets = ([(x: 0, y: 0)] + steps).map { "\(-$0.x):\(-$0.y)" }.joined(separator: ",")
        let check = try sessionCheck("frames-are-crops", file, [image, "480", "360", "320", "240", offsets])
        let ticks = try TickAccounting(file: file)
        // Seventeen views held 0.08 s each (1.36 s, of which tick 0 may come up to 0.25 s after the log
        // line that starts the moves): every tick stored or reported lost.
        #expect(ticks.isComplete && ticks.accountedTicks >= 60, "\(ticks)")
        #expect((check["frames"] as? Int ?? 0) == ticks.frames)
        #expect(check["mismatched"] as? Int == 0, "first frame that is no crop of the image: \(String(describing: check["first_bad"]))")
        #expect((check["offsets_seen"] as? Int ?? 0) >= 6, "the view panned 16 times: \(check)")
        #expect((check["shifted"] as? Int ?? 0) >= 5, "pans must be residuals against a shifted reference: \(check)")
        let summary = try sessionCheck("summary", file)
        #expect((summary["attrs"] as? [String: Any])?["format_version"] as? Int == 2)
        let inspected = try runTool(TestPaths.recorderCLI, ["inspect", file, "--json"])
        let fields = (try? JSONSerialization.jsonObject(with: Data(inspected.stdout.utf8))) as? [String: Any] ?? [:]
        #expect(fields["formatVersion"] as? Int == 2, "\(inspected.stdout)")
        #expect(fields["shiftedFrames"] as? Int == check["shifted"] as? Int, "\(inspected.stdout)")
    }

    @Test func missingWindowIsAClearStartError() throws {
        let (result, file) = try record("nowindow", ["--duration", "1", "--window", "no-such-window-title-xyz"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("no-such-window-title-xyz"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: file), "a session that never started leaves no file")
    }

    @Test func badOptionsAreUsageErrors() throws {
        for arguments in [["--fps", "0"], ["--region", "1,2,3"], ["--codec", "gzip"], ["--input", "bogus"], ["--meta", "novalue"]] {
            let (result, file) = try record("bad", ["--duration", "1"] + arguments)
            #expect(result.status == 64, "\(arguments): \(result.stderr)")
            #expect(!result.stderr.isEmpty)
            #expect(!FileManager.default.fileExists(atPath: file))
        }
    }

    @Test func existingFileIsNeverOverwritten() throws {
        let file = directory.appendingPathComponent("exists.h5").path
        try Data("precious".utf8).write(to: URL(fileURLWithPath: file))
        let result = try runTool(TestPaths.recorderCLI, ["record", "--display", display.name, "--output", file, "--input", "none", "--duration", "1"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("exists"), "\(result.stderr)")
        #expect(try String(contentsOfFile: file, encoding: .utf8) == "precious")
    }
}

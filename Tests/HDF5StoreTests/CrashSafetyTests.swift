import Foundation
import HDF5Store
import RecorderCore
import Testing
import TestSupport

/// Crash safety with real processes and a real full file system.
@Suite(.serialized)
struct CrashSafetyTests {
    /// The writer process the test kills: `storage-bench crash-writer`, built beside the tests.
    static var crashWriter: String {
        // Beside the test binary (any --scratch-path), else where TestSupport says products are.
        let running = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        for directory in [running, running.deletingLastPathComponent(), TestPaths.productsDirectory] {
            let candidate = directory.appendingPathComponent("storage-bench").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return TestPaths.productsDirectory.appendingPathComponent("storage-bench").path
    }

    @Test("a writer SIGKILLed mid-session leaves a file that recovery makes plainly readable with every flushed frame",
          arguments: [false, true])
    func recoversAfterSigkill(motion: Bool) throws {
        let directory = try TestPaths.temporaryDirectory("crash")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("killed.h5").path
        let width = 160, height = 120

        let child = Process()
        child.executableURL = URL(fileURLWithPath: Self.crashWriter)
        child.arguments = ["crash-writer", path, "\(width)", "\(height)", "30"] + (motion ? ["motion"] : [])
        child.standardOutput = FileHandle.nullDevice
        child.standardError = FileHandle.nullDevice
        try child.run()
        // What reached the file, as a SWMR reader sees it: asked until 60 frames are flushed, then once
        // more right before the kill. Everything seen then must survive; the writer's pace does not matter.
        var seen: [String: Any] = [:]
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline && child.isRunning && (seen["rows"] as? Int ?? 0) < 60 {
            if let now = try? sessionCheck("frame-rows", path, ["live"]) { seen = now }
            Thread.sleep(forTimeInterval: 0.2)
        }
        seen = (try? sessionCheck("frame-rows", path, ["live"])) ?? seen
        kill(child.processIdentifier, SIGKILL)
        child.waitUntilExit()
        #expect(child.terminationReason == .uncaughtSignal)
        let mustHave = (frames: seen["rows"] as? Int ?? 0, events: seen["events"] as? Int ?? 0)
        #expect(mustHave.frames >= 60, "the writer never got going: \(seen["lengths"] ?? "no file")")

        // The killed SWMR file does not open plainly before recovery.
        let before = try runPython("import h5py, sys\ntry:\n    h5py.File(sys.argv[1], 'r')\n    print('opened')\nexcept Exception as e:\n    print('refused')", arguments: [path])
        #expect(before.stdout.contains("refused"))

        let report = try SessionRecovery.recover(path: path)
        #expect(!report.wasClean)
        #expect(report.bytesAfter >= report.bytesBefore)
        #expect(report.framesAfter >= Int64(mustHave.frames))
        #expect(report.framesAfter <= report.framesBefore)

        let run = try runPython(PythonChecks.synthetic, arguments: [path, "\(width)", "\(height)"] + (motion ? ["motion"] : []))
        #expect(run.status == 0, "\(run.stderr)")
        let out = parseJSON(run.stdout)
        let frames = out["frames"] as? Int ?? 0
        #expect(frames >= mustHave.frames)
        #expect(Int64(frames) == report.framesAfter)
        #expect((out["bad"] as? [Int]) == [], "frames that do not match: \(out["bad"] ?? "?")")
        // Every per-frame dataset (format 2's reference_shift too) is cut to the same length.
        #expect((out["lengths"] as? [Int]) == Array(repeating: frames, count: motion ? 7 : 6))
        #expect(out["format_version"] as? Int == (motion ? 2 : 1))
        if motion { #expect((out["shifted"] as? Int ?? 0) > frames / 2, "a panning background: \(out)") }
        #expect((out["events"] as? Int ?? 0) >= mustHave.events)
        #expect(out["events_ok"] as? Bool == true)
        #expect(out["end_reason"] as? String == "recovered")
        #expect(out["clean_shutdown"] as? Int == 0)

        let summary = try SessionInspector.inspect(path: path)
        #expect(summary.endReason == "recovered")
        #expect(!summary.cleanShutdown)
        // A second recovery finds nothing more to do and keeps every frame.
        let again = try SessionRecovery.recover(path: path)
        #expect(again.framesAfter == report.framesAfter)
    }

    /// With the default reserve the writer stops before the disk is full; with none, a real ENOSPC
    /// from HDF5 ends the session and the file is repaired like a crashed one.
    @Test("a full disk ends the session as disk-full with everything written so far readable", arguments: [
        WriterConfiguration.defaultReservedFreeBytes, 0,
    ])
    func diskFullEndsCleanly(reserve: Int64) throws {
        let directory = try TestPaths.temporaryDirectory("full")
        defer { try? FileManager.default.removeItem(at: directory) }
        let mount = try runTool("/bin/mount", ["-t", "tmpfs", "-o", "size=3m", "tmpfs", directory.path])
        try #require(mount.status == 0, "mount tmpfs: \(mount.stderr)")
        defer { _ = try? runTool("/bin/umount", [directory.path]) }
        let path = directory.appendingPathComponent("full.h5").path
        // Without a reserve, something else's file takes the space the seal would need, and is removed later.
        let ballast = directory.appendingPathComponent("ballast").path
        if reserve == 0 { try Data(count: 1_200_000).write(to: URL(fileURLWithPath: ballast)) }
        let width = 160, height = 120
        // Every frame a fresh random image: ~57 KB that does not compress, so 3 MB fill after ~40 frames.
        let harness = WriterHarness(configuration: WriterHarness.configuration(
            path: path, width: width, height: height, codec: .zstd, interval: 1, reserve: reserve))
        #expect(try harness.start() == .ready)
        var generator = SplitMix(seed: 99)
        for _ in 0..<200 {
            let rgb = (0..<(width * height * 3)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            harness.push { slot in
                ScreenLikeFrames.paint(rgb, into: slot, width: width, height: height, stride: harness.stride)
                return rgb
            }
        }
        let result = try #require(harness.finish())
        #expect(result.endReason == .diskFull)
        #expect(harness.control.endReason?.reason == .diskFull)
        #expect(result.framesWritten > 10)
        #expect(result.framesWritten < 200)
        if reserve > 0 {
            #expect(result.error?.contains("disk full") == true)
            #expect(result.cleanShutdown)
        } else if !result.cleanShutdown {
            // The seal itself hit ENOSPC: once there is room again, recovery keeps every flushed frame.
            try FileManager.default.removeItem(atPath: ballast)
            let report = try SessionRecovery.recover(path: path)
            #expect(report.framesAfter > 0)
        }

        let expectedPath = FileManager.default.temporaryDirectory.appendingPathComponent("full-\(UUID().uuidString).rgb").path
        defer { try? FileManager.default.removeItem(atPath: expectedPath) }
        try harness.expectedRGB.prefix(Int(result.framesWritten) * width * height * 3).write(to: URL(fileURLWithPath: expectedPath))
        let run = try runPython(PythonChecks.frames, arguments: [path, expectedPath, "\(width)", "\(height)", "\(harness.startNs)"])
        #expect(run.status == 0, "\(run.stderr)")
        let out = parseJSON(run.stdout)
        // After a failed write the last frames may be cut by the repair, never more than were written.
        let readable = out["frames"] as? Int ?? 0
        if reserve > 0 { #expect(readable == Int(result.framesWritten)) } else { #expect(readable > 10 && readable <= Int(result.framesWritten)) }
        #expect((out["bad"] as? [Int]) == [])
        #expect(out["end_reason"] as? String == (result.cleanShutdown ? "disk-full" : "recovered"))
        guard reserve > 0 else { return }
        let notes = try runPython("import h5py,sys,json\nf=h5py.File(sys.argv[1],'r')\nprint(json.dumps([r['kind'].decode() for r in f['log/notes'][:]]))", arguments: [path])
        #expect(notes.stdout.contains("disk-full"))
    }
}

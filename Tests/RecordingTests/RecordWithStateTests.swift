import Foundation
import Testing
import TestSupport

/// Capture at 60 FPS and the state sampler together for 10 s, each on its own X connection.
@Suite(.serialized)
final class RecordWithStateTests {
    @Test func captureAndSamplerRunTogetherWithoutXErrorsOrDrops() throws {
        let display = try XvfbDisplay(width: 640, height: 480)
        defer { display.stop() }
        let directory = try TestPaths.temporaryDirectory("state")
        defer { try? FileManager.default.removeItem(at: directory) }
        let scene = try BackgroundProcess("/usr/bin/env", ["python3", TestScripts.movingScene, display.name, "60"])
        defer { scene.terminate() }
        #expect(scene.waitForOutput("ready", timeout: 60), "\(scene.stderr)")
        let probes = directory.appendingPathComponent("probes.toml")
        try """
            [[probe]]
            name = "hp"
            kind = "bar"
            region = [100, 50, 200, 10]
            color = "#f0d020"

            [[probe]]
            name = "tint"
            kind = "mean"
            region = [0, 0, 640, 480]

            [[probe]]
            name = "scene"
            kind = "changed"
            region = [0, 0, 320, 240]

            [[probe]]
            name = "focus"
            kind = "window"
            """.write(to: probes, atomically: true, encoding: .utf8)
        let file = directory.appendingPathComponent("together.h5").path
        let result = try runTool(TestPaths.recorderCLI, [
            "record", "--display", display.name, "--output", file, "--input", "none", "--duration", "10",
            "--state-config", probes.path, "--quiet", "--json",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any] ?? [:]
        let counters = report["counters"] as? [String: Any] ?? [:]
        #expect(counters["xErrors"] as? Int == 0)
        #expect(counters["grabFailures"] as? Int == 0)

        let summary = try sessionCheck("summary", file)
        let ticks = TickAccounting(summary: summary)
        // 10 s at 60 FPS: 600 ticks, each one stored or reported lost (a loaded machine may drop some).
        #expect(ticks.isComplete && ticks.accountedTicks >= 594, "\(ticks)")
        #expect(counters["framesWritten"] as? Int == ticks.frames, "\(counters)")
        // 5 samples a second on absolute deadlines: never more than the 51 slots of 10 s. A late sample
        // skips slots instead of bursting, so fewer are legal (a loaded machine can hold the sampler
        // over a second); it must still sample through the session, past its middle.
        let times = summary["sample_times"] as? [Int] ?? []
        let gaps = zip(times, times.dropFirst()).map { $1 - $0 }
        let firstFrame = summary["first_ts"] as? Int ?? 0
        let lastFrame = summary["last_ts"] as? Int ?? 0
        #expect((10...51).contains(times.count), "\(times.count) samples in 10 s at 5 Hz")
        #expect(gaps.allSatisfy { $0 > 0 }, "gaps between samples (ns): \(gaps)")
        #expect((times.last ?? 0) > (firstFrame + lastFrame) / 2, "the sampler stopped early: \(times)")
        let kinds = (summary["notes"] as? [[String: Any]] ?? []).compactMap { $0["kind"] as? String }
        #expect(!kinds.contains("x-error"), "\(kinds)")
        #expect(!kinds.contains("grab-failed"), "\(kinds)")
    }

    @Test func badProbeFileStopsTheSessionBeforeAnyFileExists() throws {
        let display = try XvfbDisplay(width: 320, height: 240)
        defer { display.stop() }
        let directory = try TestPaths.temporaryDirectory("badprobe")
        defer { try? FileManager.default.removeItem(at: directory) }
        let probes = directory.appendingPathComponent("bad.toml")
        try """
            [[probe]]
            name = "hp"
            kind = "bar"
            region = [300, 200, 200, 10]
            color = "#d01010"
            """.write(to: probes, atomically: true, encoding: .utf8)
        let file = directory.appendingPathComponent("never.h5").path
        let result = try runTool(TestPaths.recorderCLI, [
            "record", "--display", display.name, "--output", file, "--input", "none", "--duration", "1",
            "--state-config", probes.path, "--quiet",
        ])
        #expect(result.status != 0)
        #expect(result.stderr.contains("bad.toml"), "the error names the file: \(result.stderr)")
        #expect(result.stderr.contains("hp"), "the error names the probe: \(result.stderr)")
        #expect(result.stderr.contains("region"), "the error names the field: \(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: file), "a session that never started leaves no file")
    }
}

import Foundation
import Testing
import TestSupport

/// Split sessions end to end (`--split-every`, `--split-size`): real Xvfb, real evemu replays, the
/// parts read back with plain h5py one file at a time.
@Suite(.serialized)
final class RecordSplitTests {
    let display: XvfbDisplay
    let directory: URL

    init() throws {
        display = try XvfbDisplay(width: 320, height: 240)
        directory = try TestPaths.temporaryDirectory("split")
    }

    deinit {
        display.stop()
        try? FileManager.default.removeItem(at: directory)
    }

    /// Paints a random image on the root window; every stored frame must decode to it exactly.
    private func paintRandomImage(seed: UInt64) throws -> (BackgroundProcess, String) {
        let image = try writeRandomImage(width: 320, height: 240, seed: seed, in: directory)
        let painter = try BackgroundProcess("/usr/bin/env", ["python3", TestScripts.paintImage, display.name, image, "320", "240", "root"])
        #expect(painter.waitForOutput("ready", timeout: 60), "\(painter.stderr)")
        return (painter, image)
    }

    /// The E: lines of an evemu recording.
    private static func eventCount(_ path: String) throws -> Int {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").filter { $0.hasPrefix("E:") }.count
    }

    /// The manifest as the recorder last wrote it (nil while it does not exist or is mid-replace).
    private func manifest(_ path: String) -> [String: Any]? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
    }

    @Test func thirtySecondsSplitEveryFiveSecondsAccountForEveryTickEventAndSample() throws {
        let (painter, image) = try paintRandomImage(seed: 18)
        defer { painter.terminate() }
        let fixtures = TestPaths.evemuFixtures
        let replays = [
            "\(fixtures.path)/logitech-k400-plus.events",
            "\(fixtures.path)/madcatz-xbox360-pad.events",
            "\(fixtures.path)/saitek-rat5-mouse.desc,\(fixtures.path)/saitek-rat5-mouse.events",
        ]
        let expectedEvents = try ["logitech-k400-plus.events", "madcatz-xbox360-pad.events", "saitek-rat5-mouse.events"]
            .map { try Self.eventCount(fixtures.appendingPathComponent($0).path) }.reduce(0, +)
        let probes = directory.appendingPathComponent("probes.toml")
        try """
            [[probe]]
            name = "tint"
            kind = "mean"
            region = [0, 0, 320, 240]

            [[probe]]
            name = "scene"
            kind = "changed"
            region = [0, 0, 160, 120]
            """.write(to: probes, atomically: true, encoding: .utf8)
        let output = directory.appendingPathComponent("long.h5").path
        let manifestPath = directory.appendingPathComponent("long.manifest.json").path
        let recorder = try BackgroundProcess(TestPaths.recorderCLI, [
            "record", "--display", display.name, "--output", output, "--split-every", "5s", "--state-config", probes.path,
            "--quiet", "--json",
        ] + replays.flatMap { ["--input", "replay:\($0)"] })
        defer { recorder.terminate() }
        #expect(recorder.waitForStandardError("recorder: recording", timeout: 60), "\(recorder.stderr)")
        // 30 s of session time (the manifest's ticks say how far the session got, whatever the load),
        // and every replay played to its end, then stop.
        let deadline = Date().addingTimeInterval(240)
        while recorder.isRunning && Date() < deadline {
            let lastTick = ((manifest(manifestPath)?["parts"] as? [[String: Any]])?.last?["previous_part_last_tick"] as? Int) ?? 0
            let finished = recorder.stderr.components(separatedBy: "replay finished").count > replays.count
            if lastTick >= 30 * 60 - 1 && finished { break }
            Thread.sleep(forTimeInterval: 0.2)
        }
        recorder.send(SIGINT)
        #expect(recorder.waitForExit(timeout: 60) == 0, "\(recorder.stderr)")
        #expect(!FileManager.default.fileExists(atPath: output), "NAME.h5 itself is never created")

        let check = try sessionCheck("parts", manifestPath, [image, "320", "240"])
        let parts = check["parts"] as? [[String: Any]] ?? []
        #expect(parts.count >= 7, "30 s split every 5 s (and the part the stop cut short): \(parts.count) parts")
        let session = check["manifest"] as? [String: Any] ?? [:]
        #expect(session["state"] as? String == "ended")
        #expect(session["end_reason"] as? String == "signal")
        let sessionID = session["session_id"] as? String ?? ""
        #expect(sessionID.count == 36)

        // Every tick from 0 to the last is stored or reported lost, across the parts.
        let frames = check["frames"] as? Int ?? 0
        let missing = check["missing_ticks"] as? Int ?? Int.max
        let lost = check["reported_lost"] as? Int ?? 0
        let lastTick = check["last_tick"] as? Int ?? 0
        #expect(check["ticks_strictly_increasing"] as? Bool == true)
        #expect(missing <= lost && frames + missing == lastTick + 1, "frames \(frames), missing \(missing), reported lost \(lost), last tick \(lastTick)")
        #expect(check["events"] as? Int == expectedEvents, "every replayed event once, in the part open when it was drained")
        #expect(check["events_in_order"] as? Bool == true)
        #expect(check["samples_in_order"] as? Bool == true, "no sample doubled at a boundary")
        let report = (try? JSONSerialization.jsonObject(with: Data(recorder.stdout.utf8))) as? [String: Any] ?? [:]
        let counters = report["counters"] as? [String: Any] ?? [:]
        #expect(counters["framesWritten"] as? Int == frames, "\(counters)")
        #expect(counters["inputEventsWritten"] as? Int == expectedEvents)
        #expect(counters["stateSamplesWritten"] as? Int == check["samples"] as? Int)
        #expect((report["file"] as? String ?? "").hasSuffix(".part\(String(format: "%04d", parts.count)).h5"), "\(report["file"] ?? "")")

        var previousLast = -1
        var previousFirst = -1
        for (index, part) in parts.enumerated() {
            let attrs = part["attrs"] as? [String: Any] ?? [:]
            let row = part["manifest"] as? [String: Any] ?? [:]
            let name = part["file"] as? String ?? "?"
            let isLast = index == parts.count - 1
            #expect(attrs["session_id"] as? String == sessionID, "\(name)")
            #expect(attrs["part_number"] as? Int == index + 1, "\(name)")
            #expect(attrs["part_final"] as? Int == (isLast ? 1 : 0), "\(name)")
            #expect(attrs["clean_shutdown"] as? Int == 1, "\(name)")
            #expect(attrs["end_reason"] as? String == (isLast ? "signal" : "stopped"), "\(name)")
            if !isLast { #expect((attrs["end_detail"] as? String ?? "").hasPrefix("split: part \(index + 1) continues in"), "\(name)") }
            #expect(part["first_reference"] as? Int == -1, "\(name) starts with a keyframe")
            #expect(part["mismatched"] as? Int == 0, "\(name) decodes to the painted image")
            #expect(part["devices"] as? Int == replays.count, "\(name) has its own device table")
            let first = part["first_tick"] as? Int ?? -1
            let last = part["last_tick"] as? Int ?? -1
            #expect(attrs["previous_part_last_tick"] as? Int == previousLast, "\(name)")
            #expect(row["previous_part_last_tick"] as? Int == previousLast, "\(name)")
            #expect(row["first_tick"] as? Int == first && row["last_tick"] as? Int == last, "\(name): manifest \(row)")
            #expect(row["frames"] as? Int == part["frames"] as? Int, "\(name)")
            #expect(row["events"] as? Int == part["events"] as? Int, "\(name)")
            #expect(row["samples"] as? Int == part["samples"] as? Int, "\(name)")
            #expect(row["state"] as? String == "sealed", "\(name)")
            // Part k+1 starts at the tick after part k's last unless that tick was lost (and reported).
            if previousLast >= 0 { #expect(first > previousLast, "\(name)") }
            // A part ends at the first frame at least 5 s of ticks after its own first frame.
            if previousFirst >= 0 { #expect(first - previousFirst >= 5 * 60, "\(name) starts \(first - previousFirst) ticks after the part before") }
            previousFirst = first
            previousLast = last
        }
        let boundaryGaps = zip(parts, parts.dropFirst()).map { ($1["first_tick"] as? Int ?? 0) - ($0["last_tick"] as? Int ?? 0) - 1 }
        #expect(boundaryGaps.reduce(0, +) <= lost, "ticks missing at boundaries \(boundaryGaps) are reported lost (\(lost))")
        let hidden = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".next") }
        #expect(hidden.isEmpty, "the part prepared ahead is removed at the end: \(hidden)")
    }

    @Test func sigkillMidPartLeavesEarlierPartsSealedAndTheCurrentOneRecoverable() throws {
        let (painter, image) = try paintRandomImage(seed: 19)
        defer { painter.terminate() }
        let output = directory.appendingPathComponent("killed.h5").path
        let manifestPath = directory.appendingPathComponent("killed.manifest.json").path
        let recorder = try BackgroundProcess(TestPaths.recorderCLI, [
            "record", "--display", display.name, "--output", output, "--input", "none", "--split-every", "2", "--quiet",
        ])
        defer { recorder.terminate() }
        #expect(recorder.waitForStandardError("recorder: recording", timeout: 60), "\(recorder.stderr)")
        let deadline = Date().addingTimeInterval(180)
        while recorder.isRunning && Date() < deadline && ((manifest(manifestPath)?["parts"] as? [Any])?.count ?? 0) < 3 {
            Thread.sleep(forTimeInterval: 0.2)
        }
        Thread.sleep(forTimeInterval: Double.random(in: 0.3...1.5))
        recorder.send(SIGKILL)
        #expect(recorder.waitForExit(timeout: 30) != nil)

        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasPrefix("killed.part") && $0.hasSuffix(".h5") }.sorted()
        try #require(files.count >= 3, "\(files)")
        let current = try #require(files.last)
        for earlier in files.dropLast() {
            let plain = try sessionCheck("plain-open", directory.appendingPathComponent(earlier).path)
            let attrs = plain["attrs"] as? [String: Any] ?? [:]
            #expect(attrs["clean_shutdown"] as? Int == 1, "\(earlier) was sealed at its rollover")
            #expect(attrs["part_final"] as? Int == 0)
        }
        let recover = try runTool(TestPaths.recorderCLI, ["recover", directory.appendingPathComponent(current).path])
        #expect(recover.status == 0, "\(recover.stderr)")
        let plain = try sessionCheck("plain-open", directory.appendingPathComponent(current).path)
        let attrs = plain["attrs"] as? [String: Any] ?? [:]
        #expect(attrs["end_reason"] as? String == "recovered")
        #expect(attrs["part_number"] as? Int == files.count)

        let after = try #require(manifest(manifestPath))
        #expect(after["state"] as? String == "recovered", "\(after)")
        let rows = after["parts"] as? [[String: Any]] ?? []
        #expect(rows.count == files.count, "the manifest lists every part on disk: \(rows.map { $0["file"] ?? "?" })")
        let last = rows.last ?? [:]
        #expect(last["state"] as? String == "recovered")
        #expect(last["frames"] as? Int == plain["frames"] as? Int, "\(last)")
        // Every part, the recovered one too, decodes to the painted image from its first keyframe.
        let check = try sessionCheck("parts", manifestPath, [image, "320", "240"])
        let checked = check["parts"] as? [[String: Any]] ?? []
        for part in checked {
            // Killed within a second of its rollover, the current part may hold no flushed frame yet.
            if part["file"] as? String == current && part["frames"] as? Int == 0 { continue }
            #expect(part["first_reference"] as? Int == -1, "\(part["file"] ?? "?"): \(part["frames"] ?? "?") frames")
            #expect(part["mismatched"] as? Int == 0, "\(part["file"] ?? "?")")
        }
        #expect(check["ticks_strictly_increasing"] as? Bool == true)
    }

    @Test func splitBySizeKeepsEveryPartNearTheLimit() throws {
        let (painter, image) = try paintRandomImage(seed: 20)
        defer { painter.terminate() }
        let output = directory.appendingPathComponent("sized.h5").path
        // Uncompressed whole frames: 230,400 bytes each, so 1 MiB holds 4-5 of them.
        let result = try runTool(TestPaths.recorderCLI, [
            "record", "--display", display.name, "--output", output, "--input", "none", "--duration", "2",
            "--codec", "none", "--keyframe-interval", "1", "--split-size", "1M", "--quiet",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let check = try sessionCheck("parts", directory.appendingPathComponent("sized.manifest.json").path, [image, "320", "240"])
        let parts = check["parts"] as? [[String: Any]] ?? []
        #expect(parts.count >= 3, "\(parts.count) parts")
        for (index, part) in parts.enumerated() {
            let bytes = (part["manifest"] as? [String: Any])?["bytes"] as? Int ?? 0
            #expect(part["mismatched"] as? Int == 0)
            if index < parts.count - 1 {
                #expect(bytes >= 1 << 20, "part \(index + 1) ended at \(bytes) bytes, before the limit")
                // The boundary is decided when a frame is prepared: frames already in the pipeline still go to the part.
                #expect(bytes < (1 << 20) + 64 * 230_400 + (1 << 20), "part \(index + 1) overshoots: \(bytes) bytes")
            }
        }
        #expect(check["missing_ticks"] as? Int ?? Int.max <= check["reported_lost"] as? Int ?? 0)
    }

    @Test func hostileManifestsGiveClearErrorsAndAreLeftAsTheyWere() throws {
        let output = directory.appendingPathComponent("h.h5").path
        let result = try runTool(TestPaths.recorderCLI, ["record", "--display", display.name, "--output", output, "--input", "none",
                                                         "--duration", "2.5", "--split-every", "1", "--quiet"])
        #expect(result.status == 0, "\(result.stderr)")
        let manifestPath = directory.appendingPathComponent("h.manifest.json").path
        let part = directory.appendingPathComponent("h.part0002.h5").path
        let good = try String(contentsOfFile: manifestPath, encoding: .utf8)
        let inspected = try runTool(TestPaths.recorderCLI, ["inspect", manifestPath])
        #expect(inspected.status == 0 && inspected.stdout.contains("h.part0002.h5: sealed"), "\(inspected.stdout)\(inspected.stderr)")
        let partText = try runTool(TestPaths.recorderCLI, ["inspect", part])
        #expect(partText.stdout.contains("part: 2 of session"), "\(partText.stdout)")

        let crafted: [(String, String)] = [
            ("{\"format\": \"recorder-session-manifest\", \"version\": 1, \"parts\": 7}", "is not a session manifest"),
            (good.replacingOccurrences(of: "\"h.part0001.h5\"", with: "\"../../etc/passwd\""), "not a part file of this folder"),
            (good.replacingOccurrences(of: "\"version\" : 1", with: "\"version\" : 9"), "manifest version 9"),
            (String(repeating: "[", count: 100_000), "is not a session manifest"),
        ]
        for (text, expected) in crafted {
            try text.write(toFile: manifestPath, atomically: true, encoding: .utf8)
            let inspect = try runTool(TestPaths.recorderCLI, ["inspect", manifestPath])
            #expect(inspect.status == 1 && inspect.stderr.contains(expected), "\(expected): \(inspect.stderr)")
            let recover = try runTool(TestPaths.recorderCLI, ["recover", part])
            #expect(recover.status == 1 && recover.stderr.contains(expected), "\(expected): \(recover.stderr)")
            #expect(try String(contentsOfFile: manifestPath, encoding: .utf8) == text, "the manifest is left as it was")
        }
        // Another session's manifest beside the part.
        let foreign = good.replacingOccurrences(of: "\"session_id\" : \"", with: "\"session_id\" : \"0")
        try foreign.write(toFile: manifestPath, atomically: true, encoding: .utf8)
        let recover = try runTool(TestPaths.recorderCLI, ["recover", part])
        #expect(recover.status == 1 && recover.stderr.contains("not the manifest's"), "\(recover.stderr)")
        #expect(try String(contentsOfFile: manifestPath, encoding: .utf8) == foreign)
    }

    @Test(arguments: [
        (["--split-every", "0"], "--split-every"), (["--split-every", "5x"], "--split-every"),
        (["--split-every", "100000"], "--split-every"), (["--split-size", "10"], "--split-size"),
        (["--split-size", "lots"], "--split-size"), (["--split-size", "2T"], "--split-size"),
    ])
    func badSplitValuesAreRefusedBeforeAnyFile(arguments: [String], option: String) throws {
        let output = directory.appendingPathComponent("bad.h5").path
        let result = try runTool(TestPaths.recorderCLI, ["record", "--display", display.name, "--output", output, "--input", "none",
                                                         "--duration", "1", "--quiet"] + arguments)
        #expect(result.status == 64, "\(arguments): \(result.stderr)")
        #expect(result.stderr.contains(option), "the error names the option: \(result.stderr)")
        let left = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasPrefix("bad.") }
        #expect(left.isEmpty, "\(left)")
    }
}

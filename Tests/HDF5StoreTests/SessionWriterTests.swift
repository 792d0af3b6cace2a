import Foundation
import FrameCodec
import HDF5Store
import RecorderCore
import Testing
import TestSupport

/// The writer end to end: frames, tables and attributes written by `SessionWriter` and read back with h5py.
@Suite(.serialized)
struct SessionWriterTests {
    struct FrameCase: CustomTestStringConvertible, Sendable {
        var codec: SessionOptions.Codec
        var interval: Int
        var policy: ReferencePolicy
        var threads = WriterConfiguration.defaultCompressionThreads
        /// The session's motion-reference choice: false writes format 1, nil is the default (format 2 when k > 1).
        var motion: Bool? = false
        var formatVersion: Int { (motion ?? true) && interval > 1 ? 2 : 1 }
        var testDescription: String { "\(codec.rawValue) k=\(interval) \(policy.rawValue) \(threads) compressor(s) format \(formatVersion)" }
    }

    static let frameCases: [FrameCase] = [
        FrameCase(codec: .zstd, interval: 1, policy: .lastKeyframe),
        FrameCase(codec: .zstd, interval: 8, policy: .lastKeyframe),
        FrameCase(codec: .zstd, interval: 8, policy: .previousFrame),
        FrameCase(codec: .lz4, interval: 1, policy: .previousFrame),
        FrameCase(codec: .lz4, interval: 8, policy: .lastKeyframe),
        FrameCase(codec: .none, interval: 1, policy: .lastKeyframe),
        FrameCase(codec: .none, interval: 6, policy: .previousFrame),
        // Frames compressed out of order on three threads, or all on one, still land in order.
        FrameCase(codec: .zstd, interval: 8, policy: .previousFrame, threads: 3),
        FrameCase(codec: .zstd, interval: 1, policy: .lastKeyframe, threads: 1),
        // The default (format 2, motion reference), under both policies, and k = 1 (format 1: no residuals).
        FrameCase(codec: .zstd, interval: 8, policy: .lastKeyframe, motion: nil),
        FrameCase(codec: .lz4, interval: 8, policy: .previousFrame, motion: nil),
        FrameCase(codec: .zstd, interval: 1, policy: .lastKeyframe, motion: nil),
        // The default policy, format 1 and 2, on one compressor thread and on three.
        FrameCase(codec: .zstd, interval: 8, policy: .dyadic, motion: nil),
        FrameCase(codec: .zstd, interval: 16, policy: .dyadic, threads: 3),
        FrameCase(codec: .none, interval: 5, policy: .dyadic),
    ]

    @Test("every frame comes back byte-exact through h5py + hdf5plugin", arguments: frameCases)
    func framesRoundTrip(_ c: FrameCase) throws {
        let directory = try TestPaths.temporaryDirectory("frames")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("s.h5").path
        // 101 wide: not a multiple of the kernel's 16 pixels, so the tail path runs too.
        let width = 101, height = 37, count = 40
        let harness = WriterHarness(configuration: WriterHarness.configuration(
            path: path, width: width, height: height, codec: c.codec, interval: c.interval, policy: c.policy,
            motionReference: c.motion, compressionThreads: c.threads))
        #expect(try harness.start() == .ready)
        harness.pushScreenLike(count: count, seed: 42)
        let result = try #require(harness.finish())
        #expect(result.framesWritten == Int64(count))
        #expect(result.cleanShutdown)
        #expect(result.endReason == .stopped)
        let expectedPath = directory.appendingPathComponent("expected.rgb").path
        try harness.saveExpected(to: expectedPath)

        let run = try runPython(PythonChecks.frames, arguments: [path, expectedPath, "\(width)", "\(height)", "\(harness.startNs)"])
        #expect(run.status == 0, "\(run.stderr)")
        let out = parseJSON(run.stdout)
        #expect(out["frames"] as? Int == count)
        #expect((out["bad"] as? [Int]) == [], "frames that differ: \(out["bad"] ?? "?")")
        #expect((out["bad_refs"] as? [Int]) == [])
        #expect(out["per_frame_ok"] as? Bool == true)
        #expect(out["format_version"] as? Int == c.formatVersion)
        #expect(out["has_shifts"] as? Bool == (c.formatVersion == 2))
        #expect((out["chunks"] as? [Int]) == [1, height, width, 3])
        #expect(out["dtype"] as? String == "uint8")
        let filters = out["filters"] as? [Int]
        switch c.codec {
        case .zstd: #expect(filters == [32015])
        case .lz4: #expect(filters == [32004])
        case .none: #expect(filters == [])
        }
        let references = out["references"] as? [Int] ?? []
        let keyframes = out["keyframes"] as? Int ?? 0
        if c.interval == 1 {
            #expect(keyframes == count)
        } else {
            #expect((out["residuals"] as? Int ?? 0) > 0)
            // A whole frame at least every `interval` frames.
            var sinceKey = 0
            for r in references {
                sinceKey = r == -1 ? 0 : sinceKey + 1
                #expect(sinceKey < c.interval)
            }
            var lastKey = 0
            for (i, r) in references.enumerated() {
                guard r >= 0 else { lastKey = i; continue }
                switch c.policy {
                case .previousFrame: #expect(r == i - 1)
                case .lastKeyframe: #expect(references[r] == -1)
                case .dyadic:
                    let offset = i - lastKey
                    #expect(r == lastKey + (offset & (offset - 1)), "frame \(i), \(offset) after its keyframe, refers to \(r)")
                }
            }
            // The scene cut at frame 23 does not pay as a residual: stored whole (codecs that compress).
            if c.codec != .none { #expect(references[23] == -1) }
            // Frame 5 repeats frame 4: against the previous frame its residual is the cached all-zero chunk.
            let sizes = out["chunk_sizes"] as? [Int] ?? []
            if c.policy != .lastKeyframe && c.codec != .none && sizes.count > 5 {
                #expect(sizes[5] < 100, "all-zero residual chunk of \(sizes[5]) bytes")
                #expect(sizes[5] < sizes[4])
            }
        }
        #expect(result.keyframesWritten == Int64(keyframes))
        #expect(out["end_reason"] as? String == "stopped")
        #expect(out["clean_shutdown"] as? Int == 1)
        #expect(harness.statistics.framesWritten.load(ordering: .relaxed) == Int64(count))
        #expect(harness.statistics.storedFrameBytes.load(ordering: .relaxed) == result.storedFrameBytes)

        if c.codec == .lz4 {
            // Debian's hdf5-filter-plugin (LZ4) decodes our chunks too.
            let dump = try runTool("/usr/bin/h5dump", ["-d", "/video/frames", "-s", "0,0,0,0", "-c", "1,1,2,3", path],
                                   environment: ["HDF5_PLUGIN_PATH": "/usr/lib/x86_64-linux-gnu/hdf5/serial/plugins"])
            #expect(dump.status == 0, "\(dump.stderr)")
            let first = try Data(contentsOf: URL(fileURLWithPath: expectedPath)).prefix(6).map(String.init)
            #expect(dump.stdout.replacingOccurrences(of: " ", with: "").contains(first[0..<3].joined(separator: ",")))
        }
    }

    @Test("a compressor stuck on a frame does not hold capture: the writer stores that frame unfiltered itself")
    func stuckCompressorIsTakenOver() throws {
        let directory = try TestPaths.temporaryDirectory("stuck")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("s.h5").path
        let width = 64, height = 40, count = 60
        // Every compression at the best level sleeps 1.5 s first. Frame 0 goes alone, so a compressor takes
        // it with nothing waiting (best level) and stays on it; the other 59 follow at once. Without the
        // takeover the harness would run out of slots after 8 jobs + 8 slots and wait for that compressor,
        // and frame 0 would be stored compressed at the best level.
        let harness = WriterHarness(configuration: WriterHarness.configuration(
            path: path, width: width, height: height, codec: .zstd, interval: 8, compressionDelayNs: 1_500_000_000))
        #expect(try harness.start() == .ready)
        harness.pushScreenLike(count: count, seed: 3) { i in
            if i == 1 { usleep(300_000) }
        }
        let result = try #require(harness.finish())
        #expect(result.framesWritten == Int64(count), "no frame is lost")
        let expectedPath = directory.appendingPathComponent("expected.rgb").path
        try harness.saveExpected(to: expectedPath)
        let run = try runPython(PythonChecks.frames, arguments: [path, expectedPath, "\(width)", "\(height)", "\(harness.startNs)"])
        #expect(run.status == 0, "\(run.stderr)")
        let out = parseJSON(run.stdout)
        #expect((out["bad"] as? [Int]) == [], "frames that differ: \(out["bad"] ?? "?")")
        let masks = out["filter_masks"] as? [Int] ?? []
        #expect(masks.count == count)
        #expect(masks.first == 1, "frame 0 taken from its stuck compressor: masks \(masks.prefix(8))")
        let takenOver = out["frames_taken_over"] as? Int ?? -1
        #expect(takenOver >= 1)
        #expect(takenOver <= out["frames_unfiltered"] as? Int ?? 0)
        #expect(out["frames_unfiltered"] as? Int == masks.filter { $0 == 1 }.count)
    }

    @Test("compressors forced behind degrade compression, never frames; every frame decodes exactly", arguments: [SessionOptions.Codec.zstd, .lz4])
    func fallingBehindDegradesCompression(codec: SessionOptions.Codec) throws {
        let directory = try TestPaths.temporaryDirectory("behind")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("b.h5").path
        let width = 101, height = 37
        // Every compression at the session's level takes 30 ms longer: two compressors manage ~66 frames
        // a second at best, and the harness pushes as fast as the writer takes them.
        let harness = WriterHarness(configuration: WriterHarness.configuration(
            path: path, width: width, height: height, codec: codec, interval: 8, compressionDelayNs: 30_000_000))
        #expect(try harness.start() == .ready)
        let burst = 90, calm = 60
        harness.pushScreenLike(count: burst + calm, seed: 7) { i in
            // After the burst, one frame every 50 ms: the compressors catch up and go back to the best level.
            if i >= burst { usleep(50_000) }
        }
        let result = try #require(harness.finish())
        #expect(result.framesWritten == Int64(burst + calm), "no frame is lost")
        let expectedPath = directory.appendingPathComponent("expected.rgb").path
        try harness.saveExpected(to: expectedPath)
        let run = try runPython(PythonChecks.frames, arguments: [path, expectedPath, "\(width)", "\(height)", "\(harness.startNs)"])
        #expect(run.status == 0, "\(run.stderr)")
        let out = parseJSON(run.stdout)
        #expect(out["frames"] as? Int == burst + calm)
        #expect((out["bad"] as? [Int]) == [], "frames that differ: \(out["bad"] ?? "?")")
        #expect(out["per_frame_ok"] as? Bool == true)
        let masks = out["filter_masks"] as? [Int] ?? []
        let flags = out["flags"] as? [Int] ?? []
        let sizes = out["chunk_sizes"] as? [Int] ?? []
        let references = out["references"] as? [Int] ?? []
        #expect(masks.count == burst + calm && flags.count == masks.count)
        let fastBit = Int(CapturedFrame.Flags.compressedFast), unfilteredBit = Int(CapturedFrame.Flags.storedUnfiltered)
        for (i, mask) in masks.enumerated() where i < flags.count && i < sizes.count {
            // The flag says what the chunk's filter mask says; an unfiltered chunk is the frame's raw bytes.
            #expect((mask == 1) == (flags[i] & unfilteredBit != 0), "frame \(i): mask \(mask), flags \(flags[i])")
            #expect(mask == 0 || mask == 1)
            if mask == 1 { #expect(sizes[i] == width * height * 3) }
            #expect(flags[i] & fastBit == 0 || flags[i] & unfilteredBit == 0)
        }
        let fast = flags.filter { $0 & fastBit != 0 }.count
        let unfiltered = masks.filter { $0 == 1 }.count
        #expect(out["frames_fast"] as? Int == fast)
        #expect(out["frames_unfiltered"] as? Int == unfiltered)
        #expect(fast + unfiltered > 0, "30 ms per frame on two threads cannot keep up with the burst")
        #expect(out["fast_level"] as? Int == (codec == .zstd ? -4 : 8))
        // Caught up: the last frames (identical ones need no compression) are back at the best level.
        let tail = (burst + calm - 8)..<(burst + calm)
        #expect(tail.allSatisfy { flags[$0] & (fastBit | unfilteredBit) == 0 }, "flags at the end: \(tail.map { flags[$0] })")
        #expect(references.count == burst + calm)

        let inspected = try SessionInspector.inspect(path: path)
        #expect(inspected.fastFrames == Int64(fast))
        #expect(inspected.unfilteredFrames == Int64(unfiltered))
    }

    @Test("events, devices, samples, windows, notes and attributes are stored row-exact")
    func tablesRoundTrip() throws {
        let directory = try TestPaths.temporaryDirectory("tables")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("t.h5").path
        let fields = [StateField(name: "cursor_x", kind: .int32), StateField(name: "cursor_y", kind: .int32),
                      StateField(name: "hp", kind: .float64), StateField(name: "level", kind: .int64),
                      StateField(name: "flag", kind: .uint8)]
        let harness = WriterHarness(configuration: WriterHarness.configuration(
            path: path, width: 64, height: 48, stateFields: fields,
            meta: [.init(key: "player", value: "ada"), .init(key: "map", value: "Temperate ✓")]))
        #expect(try harness.start() == .ready)
        let start = harness.startNs
        harness.devices.trySend(InputDeviceInfo(
            id: 1, name: "Test Keyboard", path: "replay:/x/kbd.evemu", bus: 3, vendor: 0x046d, product: 0xc31c, version: 0x110,
            phys: "usb-1", uniq: "", kind: "keyboard", capabilities: [1: [30, 31, 1], 0: [0]], keysHeldAtStart: [42],
            firstSeenNs: start + 5))
        var source = ScreenLikeFrames(width: 64, height: 48, seed: 7)
        var sent = 0
        for i in 0..<12 {
            let rgb = source.next(index: i)
            harness.push { slot in
                ScreenLikeFrames.paint(rgb, into: slot, width: 64, height: 48, stride: harness.stride)
                return rgb
            }
            // Thousands of events interleaved with frames, pushed the way the input thread does.
            while sent < (i + 1) * 5000 / 12 {
                let k = sent
                let event = InputEvent(tNs: start + Int64(k) * 1000, device: UInt16(k % 3), type: UInt16(k % 4),
                                       code: UInt16(k % 500), value: Int32(k * 7 - 1000), flags: UInt16(k % 2))
                if harness.events.tryPush(event) { sent += 1 } else { usleep(100) }
            }
        }
        while sent < 5000 {
            let k = sent
            if harness.events.tryPush(InputEvent(tNs: start + Int64(k) * 1000, device: UInt16(k % 3), type: UInt16(k % 4),
                                                 code: UInt16(k % 500), value: Int32(k * 7 - 1000), flags: UInt16(k % 2))) {
                sent += 1
            }
        }
        for j in 0..<20 {
            harness.samples.trySend(StateSample(tNs: start + Int64(j) * 200_000_000,
                                                values: [Double(j * 3), Double(-j), Double(j) / 8, Double(j) * 1_000_000_007, Double(j % 2)]))
        }
        harness.windows.trySend(WindowSnapshot(tNs: start + 9, windowID: 0x4200007, title: "OpenTTD — game", wmClass: "openttd",
                                               pid: 4242, x: 0, y: 0, width: 1920, height: 1080))
        harness.notes.trySend(SessionNote(tNs: start + 11, source: "capture", kind: "target-lost", message: "window went away"))
        harness.control.requestStop(.duration)
        let result = try #require(harness.finish())
        #expect(result.inputEventsWritten == 5000)
        #expect(result.stateSamplesWritten == 20)
        #expect(result.endReason == .duration)

        var info = stat()
        #expect(stat(path, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o600)

        let run = try runPython(PythonChecks.tables, arguments: [path, "\(start)"])
        #expect(run.status == 0, "\(run.stderr)")
        let out = parseJSON(run.stdout)
        #expect(out["events_ok"] as? Bool == true)
        #expect(out["samples_ok"] as? Bool == true)
        let devices = out["devices"] as? [[Any]] ?? []
        #expect(devices.count == 1)
        #expect(devices.first?[1] as? String == "Test Keyboard")
        #expect(devices.first?[2] as? String == "replay:/x/kbd.evemu")
        #expect(devices.first?[3] as? Int == 0x046d)
        #expect(devices.first?[4] as? String == "keyboard")
        #expect(devices.first?[5] as? Int == Int(start + 5))
        #expect((out["capabilities"] as? [[Int]]) == [[1, 0, 0], [1, 1, 1], [1, 1, 30], [1, 1, 31]])
        #expect((out["keys"] as? [[Int]]) == [[1, 42]])
        let windows = out["windows"] as? [[Any]] ?? []
        #expect(windows.first?[2] as? String == "OpenTTD — game")
        #expect(windows.first?[1] as? Int == 0x4200007)
        let notes = out["notes"] as? [[String]] ?? []
        #expect(notes.contains(["capture", "target-lost", "window went away"]))
        let root = out["root"] as? [String: Any] ?? [:]
        #expect(root["format"] as? String == "recorder-session")
        #expect(root["format_version"] as? Int == 2, "the default is the motion reference")
        #expect(root["end_reason"] as? String == "duration")
        #expect(root["clean_shutdown"] as? Int == 1)
        #expect(root["mono_to_utc_ns"] as? Int == 1_700_000_000_000_000_000)
        #expect(root["session_start_ns"] as? Int == 1_000_000_000)
        #expect(root["started_at_utc"] as? String == "2023-11-14T22:13:21.000Z")
        #expect(root["recorder_version"] as? String == "test-1.0")
        #expect(root["options_json"] as? String == "{\"fps\":60}")
        let video = out["video"] as? [String: Any] ?? [:]
        #expect(video["width"] as? Int == 64)
        #expect(video["codec"] as? String == "zstd")
        #expect(video["pixel_format"] as? String == "RGB")
        #expect(video["target"] as? String == "screen")
        #expect((out["input"] as? [String: Any])?["sources"] as? String == "[\"replay:test\"]")
        #expect((out["state"] as? [String: Any])?["rate_hz"] as? Double == 5)
        #expect((out["state"] as? [String: Any])?["probe_config"] as? String == "[[probe]]")
        #expect((out["meta"] as? [String: String]) == ["player": "ada", "map": "Temperate ✓"])
        let summary = out["summary"] as? [String: Int] ?? [:]
        #expect(summary["frames"] == 12)
        #expect(summary["input_events"] == 5000)

        let inspected = try SessionInspector.inspect(path: path)
        #expect(inspected.frames == 12)
        #expect(inspected.inputEvents == 5000)
        #expect(inspected.stateSamples == 20)
        #expect(inspected.stateFields == ["t_ns", "cursor_x", "cursor_y", "hp", "level", "flag"])
        #expect(inspected.devices == ["Test Keyboard"])
        #expect(inspected.endReason == "duration")
        #expect(inspected.cleanShutdown)
        #expect(inspected.meta == ["player": "ada", "map": "Temperate ✓"])
        #expect(inspected.compressionRatio > 1)

        // Recovering a sealed file changes nothing.
        let report = try SessionRecovery.recover(path: path)
        #expect(report.wasClean)
        #expect(try SessionInspector.inspect(path: path).endReason == "duration")
    }

    @Test("an existing file is never replaced: start-up fails and the file is untouched")
    func existingFileIsKept() throws {
        let directory = try TestPaths.temporaryDirectory("exists")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("taken.h5").path
        try Data("precious".utf8).write(to: URL(fileURLWithPath: path))
        let harness = WriterHarness(configuration: WriterHarness.configuration(path: path, width: 32, height: 16))
        let outcome = try harness.start()
        guard case .failed(let worker, let message) = outcome else {
            Issue.record("start-up should fail, got \(outcome)")
            return
        }
        #expect(worker == SessionWriter.threadName)
        #expect(message.contains("already exists"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data("precious".utf8))
        #expect(harness.finish()?.error != nil)
    }

    @Test("a SWMR reader opens the file and reads flushed frames while the writer runs")
    func swmrReaderWhileWriting() throws {
        let directory = try TestPaths.temporaryDirectory("swmr")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("live.h5").path
        let harness = WriterHarness(configuration: WriterHarness.configuration(path: path, width: 80, height: 60))
        #expect(try harness.start() == .ready)
        var source = ScreenLikeFrames(width: 80, height: 60, seed: 3)
        var firstSum = 0
        for i in 0..<30 {
            let rgb = source.next(index: i)
            if i == 0 { firstSum = rgb.reduce(0) { $0 + Int($1) } }
            harness.push { slot in
                ScreenLikeFrames.paint(rgb, into: slot, width: 80, height: 60, stride: harness.stride)
                return rgb
            }
        }
        // The writer flushes about once a second; a loaded machine takes longer, so the reader asks again.
        var run = try runPython(PythonChecks.swmrReader, arguments: [path])
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline && (run.status != 0 || parseJSON(run.stdout)["frames"] as? Int != 30) {
            Thread.sleep(forTimeInterval: 0.2)
            run = try runPython(PythonChecks.swmrReader, arguments: [path])
        }
        #expect(run.status == 0, "\(run.stderr)")
        let out = parseJSON(run.stdout)
        #expect(out["frames"] as? Int == 30)
        #expect(out["first_sum"] as? Int == firstSum)
        #expect(out["end_reason"] as? String == "")
        let live = try SessionInspector.inspect(path: path)
        #expect(live.live)
        let result = try #require(harness.finish())
        #expect(result.cleanShutdown)
        #expect(try SessionInspector.inspect(path: path).frames == 30)
    }
}

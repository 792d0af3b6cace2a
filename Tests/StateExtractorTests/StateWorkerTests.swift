import CX11
import Foundation
import RecorderCore
import StateExtractor
import Testing
import TestSupport

/// The sampler against a real Xvfb (private to each test) on which the test paints.
@Suite(.serialized)
final class StateWorkerTests {
    private let xvfb: XvfbDisplay
    private let screen: TestXConnection

    init() throws {
        xvfb = try XvfbDisplay()
        screen = try TestXConnection(xvfb.name)
    }

    deinit {
        screen.close()
        // SIGKILL: an Xvfb spawned from a test-pool thread inherits a mask that blocks SIGTERM.
        xvfb.kill()
    }

    private let barColor = RGBColor(red: 0xd0, green: 0x10, blue: 0x10)
    private let dark = RGBColor(red: 0x20, green: 0x20, blue: 0x20)

    @Test func barFollowsRepaintsAtFiveSamplesPerSecond() throws {
        let file = try writeProbeFile([
            .bar("hp", region: [100, 50, 200, 10], color: "#d01010", tolerance: 40),
            .bar("mana", region: [400, 100, 10, 100], color: "#2040f0", direction: "up"),
        ])
        screen.fill(100, 50, 200, 10, dark)
        screen.fill(100, 50, 74, 10, barColor)
        screen.fill(120, 50, 1, 10, dark)  // a one-pixel seam inside the fill is bridged
        screen.fill(400, 100, 10, 100, dark)
        screen.fill(400, 175, 10, 25, RGBColor(red: 0x20, green: 0x40, blue: 0xf0))
        let harness = WorkerHarness(display: xvfb.name, probesPath: file)
        #expect(try harness.start() == .ready)
        #expect(harness.worker.schema?.fields.map(\.name) == ["cursor_x", "cursor_y", "hp", "mana"])
        let early = harness.waitForSamples(4)
        screen.fill(100, 50, 160, 10, barColor)
        // Skip the sample that may straddle the repaint.
        harness.waitForSamples(1)
        let late = harness.waitForSamples(4)
        #expect(harness.stop())
        let hp = harness.worker.schema!.fields.firstIndex { $0.name == "hp" }!
        let mana = hp + 1
        #expect(early.count >= 4 && late.count >= 4)
        for sample in early { #expect(abs(sample.values[hp] - 0.37) <= 0.01, "early hp \(sample.values[hp])") }
        for sample in late { #expect(abs(sample.values[hp] - 0.80) <= 0.01, "late hp \(sample.values[hp])") }
        for sample in early + late { #expect(sample.values[mana] == 0.25) }

        let stamps = harness.collectedSamples.map(\.tNs)
        let gaps = zip(stamps.dropFirst(), stamps).map { Double($0 - $1) / 1e6 }
        #expect(gaps.allSatisfy { $0 > 0 }, "gaps \(gaps)")
        // Absolute deadlines: sample k is never before start + k * 200 ms (a late one skips slots, never
        // bursts), and samples sit just after a multiple of 200 ms from the start, so no drift builds up.
        // A loaded machine may wake one late; most are on their slot (the median of the phases).
        let start = harness.control.startedAt!
        for (k, stamp) in stamps.enumerated() {
            let lateness = Double(stamp - start - Int64(k) * 200_000_000) / 1e6
            #expect(lateness >= 0, "sample \(k) is \(lateness) ms before its slot")
        }
        let phases = stamps.map { Double(($0 - start) % 200_000_000) / 1e6 }.sorted()
        #expect(phases[phases.count / 2] < 50, "phases within the 200 ms period (ms): \(phases)")
        #expect(harness.statistics.stateSamples.load(ordering: .relaxed) == Int64(harness.collectedSamples.count))
        #expect(harness.statistics.stateHeartbeat.load(ordering: .relaxed) >= Int64(harness.collectedSamples.count))
        #expect(harness.statistics.xErrors.load(ordering: .relaxed) == 0)
    }

    @Test func meanOfPaintedRegion() throws {
        let file = try writeProbeFile([.mean("tint", region: [10, 300, 40, 20])])
        screen.fill(10, 300, 20, 20, RGBColor(red: 255, green: 0, blue: 0))
        screen.fill(30, 300, 20, 20, RGBColor(red: 0, green: 100, blue: 255))
        let harness = WorkerHarness(display: xvfb.name, probesPath: file)
        #expect(try harness.start() == .ready)
        let before = harness.waitForSamples(2)
        screen.fill(10, 300, 40, 10, RGBColor(red: 10, green: 20, blue: 30))
        harness.waitForSamples(1)
        let after = harness.waitForSamples(2)
        #expect(harness.stop())
        for sample in before { #expect(Array(sample.values[2...4]) == [127.5, 50, 127.5]) }
        // Top half (10,20,30); bottom half still (255,0,0) | (0,100,255).
        let expected: [Double] = [68.75, 35, 78.75]  // ((10 + 127.5) / 2, (20 + 50) / 2, (30 + 127.5) / 2)
        for sample in after { #expect(Array(sample.values[2...4]) == expected) }
    }

    @Test func changedFlagsTheSampleAfterARepaint() throws {
        let file = try writeProbeFile([.changed("menu", region: [200, 200, 64, 56])])
        func paintRamp(rising: Bool) {
            for band in 0..<64 {
                let level = UInt8(rising ? band * 4 : 255 - band * 4)
                screen.fill(200 + band, 200, 1, 56, RGBColor(red: level, green: level, blue: level))
            }
        }
        paintRamp(rising: true)
        let harness = WorkerHarness(display: xvfb.name, probesPath: file)
        #expect(try harness.start() == .ready)
        harness.waitForSamples(3)
        paintRamp(rising: false)
        harness.waitForSamples(3)
        #expect(harness.stop())
        let hashes = harness.values("menu_hash")
        let flags = harness.values("menu_changed")
        let allOnes = Double((Int64(1) << 49) - 1)
        #expect(hashes.first == allOnes)
        #expect(hashes.last == 0)
        // Exactly one sample reports the change: the first one that saw the falling ramp.
        #expect(flags.filter { $0 == 1 }.count == 1, "flags \(flags), hashes \(hashes)")
        if let index = flags.firstIndex(of: 1) {
            #expect(hashes[index] == 0 && hashes[index - 1] == allOnes)
        }
        #expect(flags.first == 0)
    }

    @Test func templateFoundWherePainted() throws {
        let folder = try TestPaths.temporaryDirectory("template")
        defer { try? FileManager.default.removeItem(at: folder) }
        let png = folder.appendingPathComponent("icon.png").path
        let made = try runPython("""
            import json, random, sys
            from PIL import Image
            random.seed(6)
            image = Image.new('RGB', (12, 10))
            pixels = [(random.randrange(256), random.randrange(256), random.randrange(256)) for _ in range(120)]
            image.putdata(pixels)
            image.save(sys.argv[1])
            print(json.dumps([c for p in pixels for c in p]))
            """, arguments: [png])
        #expect(made.status == 0, "\(made.stderr)")
        let expectedPixels = try JSONDecoder().decode([UInt8].self, from: Data(made.stdout.utf8))
        let template = try RGBImage.loadPNG(path: png)
        #expect(template == RGBImage(width: 12, height: 10, pixels: expectedPixels))

        let file = try writeProbeFile([.template("icon", region: [200, 120, 80, 60], template: "icon.png")], in: folder)
        screen.fill(200, 120, 80, 60, RGBColor(red: 90, green: 120, blue: 60))
        screen.paint(template, at: 233, 141)
        let harness = WorkerHarness(display: xvfb.name, probesPath: file)
        #expect(try harness.start() == .ready)
        harness.waitForSamples(2)
        screen.fill(233, 141, 12, 10, RGBColor(red: 90, green: 120, blue: 60))
        screen.paint(template, at: 210, 165)
        harness.waitForSamples(1)
        let moved = harness.waitForSamples(2)
        #expect(harness.stop())
        let first = harness.collectedSamples[0].values
        #expect(Array(first[2...4]) == [1, 233, 141])
        for sample in moved { #expect(Array(sample.values[2...4]) == [1, 210, 165]) }
    }

    @Test func windowTitleClassPidAndGeometryOnFocus() throws {
        let file = try writeProbeFile([.window("game", match: "Zustand")])
        screen.warpPointer(x: 5, y: 5)
        let harness = WorkerHarness(display: xvfb.name, probesPath: file)
        #expect(try harness.start() == .ready)
        harness.waitForSamples(2)
        #expect(harness.focusedWindow.snapshot == nil)
        let first = screen.makeWindow(x: 500, y: 400, width: 100, height: 60, title: "plain title", utf8Title: "Zustand-Fenster ✓",
                                      instance: "statetest", className: "StateTest", pid: 4242)
        screen.focus(first)
        #expect(harness.waitUntil { harness.focusedWindow.snapshot?.windowID == UInt64(first) })
        let seen = harness.focusedWindow.snapshot
        #expect(seen?.title == "Zustand-Fenster ✓")
        #expect(seen?.wmClass == "statetest.StateTest")
        #expect(seen?.pid == 4242)
        #expect(seen.map { [$0.x, $0.y, $0.width, $0.height] } == [500, 400, 100, 60])
        #expect(seen?.matches("StateTest") == true)

        let second = screen.makeWindow(x: 20, y: 20, width: 50, height: 40, title: "Latin-1 caf\u{e9}", utf8Title: nil,
                                       instance: "other", className: "Other", pid: 7)
        screen.focus(second)
        #expect(harness.waitUntil { harness.focusedWindow.snapshot?.windowID == UInt64(second) })
        harness.waitForSamples(2)
        #expect(harness.stop())
        // Only changes reach the mailbox: nothing focused, the first window, the second window.
        #expect(harness.collectedWindows.map(\.windowID) == [0, UInt64(first), UInt64(second)])
        #expect(harness.collectedWindows.last?.title == "Latin-1 caf\u{e9}")
        #expect(harness.collectedWindows.count < harness.collectedSamples.count)
        let ids = harness.values("game_id")
        let focused = harness.values("game_focused")
        #expect(ids.contains(Double(first)) && focused[ids.firstIndex(of: Double(first))!] == 1)
        #expect(focused.last == 0 && ids.last == Double(second))
    }

    @Test func cursorFieldsWithoutProbes() throws {
        screen.warpPointer(x: 123, y: 45)
        let harness = WorkerHarness(display: xvfb.name, probesPath: nil)
        #expect(try harness.start() == .ready)
        #expect(harness.worker.schema == StateSchema(fields: ProbeConfiguration.cursorFields,
                                                     attributes: ["probes_json": "[]", "probe_config": ""]))
        let before = harness.waitForSamples(2)
        screen.warpPointer(x: 600, y: 470)
        harness.waitForSamples(1)
        let after = harness.waitForSamples(2)
        #expect(harness.stop())
        for sample in before { #expect(sample.values == [123, 45]) }
        for sample in after { #expect(sample.values == [600, 470]) }
    }

    @Test func ownConnectionAndOwnSegment() throws {
        let file = try writeProbeFile([
            .bar("hp", region: [100, 50, 200, 10], color: "#d01010"),
            .mean("tint", region: [300, 300, 30, 40]),
        ])
        let harness = WorkerHarness(display: xvfb.name, probesPath: file)
        let other = WorkerHarness(display: xvfb.name, probesPath: nil)
        #expect(try harness.start() == .ready)
        #expect(try other.start() == .ready)
        let mine = try #require(harness.worker.connection)
        let theirs = try #require(other.worker.connection)
        #expect(mine.fileDescriptor != screen.connectionNumber && mine.fileDescriptor != theirs.fileDescriptor)
        #expect(mine.resourceBase != screen.resourceBase && mine.resourceBase != theirs.resourceBase)
        #expect(mine.sharedMemory)
        // Sized for the largest region (200x10 and 30x40 -> 200x40 at 4 bytes), not the screen.
        #expect(mine.segmentBytes == 200 * 40 * 4)
        #expect(theirs.segmentBytes == 0)
        harness.waitForSamples(2)
        #expect(harness.stop() && other.stop())
    }

    @Test func badProbeFileFailsStartup() throws {
        let file = try writeProbeFile([.bar("hp", region: [600, 50, 200, 10], color: "#d01010")])
        let harness = WorkerHarness(display: xvfb.name, probesPath: file)
        let outcome = try harness.start()
        #expect(outcome == .failed(worker: StateWorker.threadName,
                                   message: "\(file): probe 'hp': field 'region': region [600, 50, 200, 10] lies outside the 640x480 screen"))
        #expect(harness.stop())
        #expect(harness.worker.schema == nil)
        #expect(harness.collectedSamples.isEmpty)
    }

    @Test func missingDisplayFailsStartup() throws {
        let harness = WorkerHarness(display: ":399", probesPath: nil)
        #expect(try harness.start() == .failed(worker: StateWorker.threadName, message: "state sampler: cannot open display :399"))
        #expect(harness.stop())
    }

    @Test func lostDisplayEndsTheSession() throws {
        let file = try writeProbeFile([.mean("tint", region: [0, 0, 10, 10])])
        let harness = WorkerHarness(display: xvfb.name, probesPath: file)
        #expect(try harness.start() == .ready)
        harness.waitForSamples(2)
        xvfb.kill()
        #expect(harness.waitUntil { harness.control.shouldStop })
        #expect(harness.control.endReason?.reason == .displayLost)
        #expect(harness.stop())
        #expect(harness.collectedNotes.contains { $0.kind == "display-lost" && $0.source == "state" })
    }

    /// The XGetImage path, on a second server without MIT-SHM (created here so no two servers start at once).
    @Test func fallsBackToXGetImage() throws {
        let xvfb = try XvfbDisplay(extraArguments: ["-extension", "MIT-SHM"])
        defer { xvfb.kill() }
        let screen = try TestXConnection(xvfb.name)
        defer { screen.close() }
        let file = try writeProbeFile([.bar("hp", region: [100, 50, 200, 10], color: "#d01010")])
        screen.fill(100, 50, 200, 10, RGBColor(red: 0, green: 0, blue: 0))
        screen.fill(100, 50, 130, 10, RGBColor(red: 0xd0, green: 0x10, blue: 0x10))
        let harness = WorkerHarness(display: xvfb.name, probesPath: file)
        #expect(try harness.start() == .ready)
        let samples = harness.waitForSamples(2)
        #expect(harness.stop())
        #expect(harness.worker.connection?.sharedMemory == false)
        for sample in samples { #expect(sample.values[2] == 0.65) }
        #expect(harness.collectedNotes.contains { $0.kind == "shm-unavailable" })
        #expect(harness.statistics.xErrors.load(ordering: .relaxed) == 0)
    }

    /// Ten seconds beside a 60 FPS full-screen grabber on another connection: both stay free of X errors.
    @Test func tenSecondsBesideASixtyFPSGrabber() throws {
        let folder = try TestPaths.temporaryDirectory("stress")
        defer { try? FileManager.default.removeItem(at: folder) }
        let png = folder.appendingPathComponent("icon.png").path
        _ = try runPython("from PIL import Image; Image.new('RGB', (8, 8), (250, 200, 0)).save(__import__('sys').argv[1])", arguments: [png])
        let file = try writeProbeFile([
            .bar("hp", region: [100, 50, 200, 10], color: "#d01010"),
            .mean("tint", region: [0, 0, 320, 240]),
            .changed("menu", region: [200, 200, 64, 56]),
            .template("icon", region: [400, 300, 64, 64], template: "icon.png"),
            .window("game"),
        ], in: folder)
        screen.fill(100, 50, 200, 10, dark)
        screen.fill(400, 300, 64, 64, dark)
        screen.fill(420, 310, 8, 8, RGBColor(red: 250, green: 200, blue: 0))
        let grabber = ScreenGrabberLoop()
        try grabber.start(display: xvfb.name)
        let harness = WorkerHarness(display: xvfb.name, probesPath: file)
        #expect(try harness.start() == .ready)
        let begin = MonotonicClock.now()
        var filled = 0
        while MonotonicClock.now() - begin < 10_000_000_000 {
            filled = (filled + 37) % 200
            screen.fill(100, 50, 200, 10, dark)
            screen.fill(100, 50, filled, 10, barColor)
            Thread.sleep(forTimeInterval: 0.25)
            harness.collect()
        }
        #expect(harness.stop())
        #expect(grabber.stop())
        let frames = grabber.frames.load(ordering: .relaxed)
        let samples = harness.collectedSamples.count
        let cost = harness.worker.cost
        print("60 FPS grabber: \(frames) frames, \(grabber.failures.load(ordering: .relaxed)) failures; state: \(samples) samples in 10 s")
        #if DEBUG
        let build = "debug"
        #else
        let build = "release"
        #endif
        print(String(format: "state cost (%@ build): %.2f ms per sample (slowest %.2f ms), thread CPU %.1f ms in 10 s = %.2f%% of a core",
                     build, Double(cost.sampleNanoseconds) / Double(max(cost.samples, 1)) / 1e6, Double(cost.slowestSampleNanoseconds) / 1e6,
                     Double(cost.threadCPUNanoseconds) / 1e6, Double(cost.threadCPUNanoseconds) / 1e8))
        #expect(frames > 0 && grabber.failures.load(ordering: .relaxed) == 0)
        #expect(grabber.xErrors.load(ordering: .relaxed) == 0)
        #expect(harness.statistics.xErrors.load(ordering: .relaxed) == 0)
        #expect(screen.errorCount == 0)
        #expect(harness.worker.connection?.resourceBase != grabber.resourceBase.load(ordering: .relaxed))
        // Never more than the 51 slots of 10 s; a late sample skips slots, so fewer are legal (a loaded
        // machine can hold a sampler over a second), but it samples through the 10 s, past their middle.
        let stamps = harness.collectedSamples.map(\.tNs)
        #expect(samples >= 10 && samples <= 52, "\(samples) samples in 10 s at 5 Hz")
        #expect(zip(stamps, stamps.dropFirst()).allSatisfy { $1 > $0 }, "\(stamps)")
        #expect((stamps.last ?? 0) - begin > 5_000_000_000, "the sampler stopped early: \(stamps)")
        #expect(harness.statistics.stateDropped.load(ordering: .relaxed) == 0)
        for value in harness.values("icon_x") { #expect(value == 420) }
        for value in harness.values("hp") { #expect(value >= 0 && value <= 1) }
    }

    /// Focus on a nameless child climbs to its named window; focus on a nameless frame finds the named client
    /// inside it; a window manager's `_NET_ACTIVE_WINDOW` wins over the input focus.
    @Test func climbsToTheNamedClientAndPrefersNetActiveWindow() throws {
        screen.warpPointer(x: 5, y: 5)
        let harness = WorkerHarness(display: xvfb.name, probesPath: nil)
        #expect(try harness.start() == .ready)
        harness.waitForSamples(1)
        let named = screen.makeWindow(x: 300, y: 100, width: 120, height: 80, title: "Named Parent", utf8Title: nil,
                                      instance: "parent", className: "Parent", pid: 11)
        let child = XCreateSimpleWindow(screen.display, named, 10, 10, 30, 20, 0, 0, 0)
        XMapWindow(screen.display, child)
        screen.focus(child)
        #expect(harness.waitUntil { harness.focusedWindow.snapshot?.windowID == UInt64(named) })
        #expect(harness.focusedWindow.snapshot?.title == "Named Parent")

        // A reparenting window manager's frame: nameless top-level holding the named client.
        let frame = XCreateSimpleWindow(screen.display, screen.root, 50, 250, 200, 150, 0, 0, 0)
        XMapWindow(screen.display, frame)
        let client = XCreateSimpleWindow(screen.display, frame, 4, 20, 190, 125, 0, 0, 0)
        let title = Array("Framed Client".utf8)
        XChangeProperty(screen.display, client, screen.atom("_NET_WM_NAME"), screen.atom("UTF8_STRING"), 8, PropModeReplace, title, Int32(title.count))
        XMapWindow(screen.display, client)
        screen.focus(frame)
        #expect(harness.waitUntil { harness.focusedWindow.snapshot?.windowID == UInt64(client) })
        let framed = harness.focusedWindow.snapshot
        #expect(framed?.title == "Framed Client")
        #expect(framed.map { [$0.x, $0.y, $0.width, $0.height] } == [54, 270, 190, 125])

        // A window manager says `named` is active while the input focus stays on the frame.
        var active = UInt(named)
        withUnsafeBytes(of: &active) { raw in
            _ = XChangeProperty(screen.display, screen.root, screen.atom("_NET_ACTIVE_WINDOW"), screen.atom("WINDOW"), 32, PropModeReplace,
                                raw.baseAddress!.assumingMemoryBound(to: UInt8.self), 1)
        }
        XSync(screen.display, 0)
        #expect(harness.waitUntil { harness.focusedWindow.snapshot?.windowID == UInt64(named) })
        #expect(harness.stop())
        #expect(harness.collectedWindows.map(\.windowID) == [0, UInt64(named), UInt64(client), UInt64(named)])
        #expect(harness.statistics.xErrors.load(ordering: .relaxed) == 0)
    }

    /// A grab that fails with an X error (the screen shrank under the probe) costs that sample's values, is
    /// counted and noted, and sampling goes on.
    @Test func xErrorsAreCountedAndSamplingContinues() throws {
        let file = try writeProbeFile([.mean("tint", region: [400, 300, 20, 20])])
        screen.fill(400, 300, 20, 20, RGBColor(red: 10, green: 20, blue: 30))
        let harness = WorkerHarness(display: xvfb.name, probesPath: file)
        #expect(try harness.start() == .ready)
        let before = harness.waitForSamples(2)
        // xrandr complains about the output's mode but the framebuffer does shrink.
        _ = try runTool("/usr/bin/xrandr", ["-display", xvfb.name, "--fb", "320x240"])
        harness.waitForSamples(1)
        let shrunk = harness.waitForSamples(2)
        _ = try runTool("/usr/bin/xrandr", ["-display", xvfb.name, "--fb", "640x480"])
        screen.fill(400, 300, 20, 20, RGBColor(red: 10, green: 20, blue: 30))
        harness.waitForSamples(1)
        let restored = harness.waitForSamples(2)
        #expect(harness.stop())
        for sample in before + restored { #expect(Array(sample.values[2...4]) == [10, 20, 30]) }
        for sample in shrunk { #expect(sample.values[2...4].allSatisfy { $0.isNaN }, "\(sample.values)") }
        #expect(harness.statistics.xErrors.load(ordering: .relaxed) >= 2)
        #expect(harness.collectedNotes.contains { $0.kind == "x-error" && $0.source == "state" })
        #expect(harness.control.endReason == nil || harness.control.endReason?.reason == .stopped)
    }
}

import Capture
import CX11Shim
import Foundation
import RecorderCore
import Testing
import TestSupport

/// Every capture test shares process-wide state (X error handlers), so they run one at a time;
/// each test starts its own Xvfb.
@Suite(.serialized)
struct CaptureTests {
    @Suite(.serialized)
    struct ScreenAndRegion {
        let fixture: DisplayFixture
        var xvfb: DisplayFixture { fixture }
        var client: TestXConnection { fixture.client }
        let image: TestImage

        init() throws {
            fixture = try DisplayFixture()
            image = TestImage(width: 640, height: 480, seed: 42)
            client.put(image, on: client.root)
        }

        @Test func wholeScreenIsPixelExactOnTheTickGrid() throws {
            client.warpPointer(x: 123, y: 45)
            let harness = try CaptureHarness(CaptureConfiguration(display: xvfb.name, fps: 60, region: nil, window: nil))
            #expect(harness.start() == .ready)
            let geometry = try #require(harness.worker.geometry)
            #expect(geometry == FrameGeometry(width: 640, height: 480, usesSharedMemory: true, target: "screen"))
            var lastTick: Int64 = -1
            var missingTicks: Int64 = 0
            var lateness: [Int64] = []
            var earlyFrames = 0
            let (frames, mismatches) = harness.consume(seconds: 2, comparingWith: image) { frame in
                #expect(frame.tick > lastTick)
                missingTicks += frame.tick - lastTick - 1
                lastTick = frame.tick
                let late = frame.timestampNs - harness.deadline(of: frame.tick)
                if late < 0 { earlyFrames += 1 }
                lateness.append(late)
                #expect(frame.cursorX == 123 && frame.cursorY == 45)
                #expect(frame.originX == 0 && frame.originY == 0)
                #expect(frame.flags == 0)
                #expect(frame.bytesPerLine == 640 * 4)
            }
            #expect(harness.stop())
            // About 120 ticks in 2 s: each one captured, or dropped/missed and counted (a loaded machine may).
            #expect(harness.accountedTicks >= 100, "\(harness.statistics.snapshot())")
            // A tick without a frame is a counted drop, miss or failure, never a silent hole.
            let lost = harness.accountedTicks - harness.statistics.framesCaptured.load(ordering: .relaxed)
            #expect(missingTicks <= lost, "\(missingTicks) ticks missing: \(harness.statistics.snapshot())")
            #expect(frames > 0)
            #expect(mismatches == 0)
            #expect(earlyFrames == 0, "a grab started before its deadline")
            lateness.sort()
            // Timestamps sit on their own tick: a grab more than half a period late is skipped, never stamped
            // with the wrong tick. (How close to the deadline is a benchmark figure, not a test.)
            let halfPeriod = (harness.deadline(of: 1) - harness.deadline(of: 0)) / 2
            #expect(lateness[lateness.count / 2] < halfPeriod, "median grab start is \(lateness[lateness.count / 2]) ns after its deadline")
            #expect(harness.statistics.framesCaptured.load(ordering: .relaxed) == Int64(frames + harness.drainedAtStop))
            #expect(harness.statistics.grabFailures.load(ordering: .relaxed) == 0)
        }

        @Test func regionIsPixelExactWithRelativeCursor() throws {
            client.warpPointer(x: 150, y: 70)
            let region = PixelRect(x: 100, y: 60, width: 200, height: 150)
            let harness = try CaptureHarness(CaptureConfiguration(display: xvfb.name, fps: 60, region: region, window: nil))
            #expect(harness.start() == .ready)
            #expect(harness.worker.geometry == FrameGeometry(width: 200, height: 150, usesSharedMemory: true, target: "region 100,60,200,150"))
            let expected = image.crop(x: 100, y: 60, width: 200, height: 150)
            let (frames, mismatches) = harness.consume(seconds: 2, comparingWith: expected) { frame in
                #expect(frame.originX == 100 && frame.originY == 60)
                #expect(frame.cursorX == 50 && frame.cursorY == 10)
            }
            #expect(harness.stop())
            #expect(harness.accountedTicks >= 100, "\(harness.statistics.snapshot())")
            #expect(frames > 0 && mismatches == 0)
        }

        @Test func withoutSharedMemoryFallsBackPixelExact() throws {
            let region = PixelRect(x: 10, y: 20, width: 300, height: 200)
            let harness = try CaptureHarness(CaptureConfiguration(display: xvfb.name, fps: 60, region: region, window: nil,
                                                                  forbidSharedMemory: true))
            #expect(harness.start() == .ready)
            #expect(harness.worker.geometry?.usesSharedMemory == false)
            let expected = image.crop(x: 10, y: 20, width: 300, height: 200)
            let (frames, mismatches) = harness.consume(seconds: 1.5, comparingWith: expected) { frame in
                #expect(frame.flags & CapturedFrame.Flags.withoutSharedMemory != 0)
            }
            #expect(harness.stop())
            #expect(harness.accountedTicks >= 70, "\(harness.statistics.snapshot())")
            #expect(frames > 0 && mismatches == 0)
        }

        @Test func slowConsumerMakesDropsNotStalls() throws {
            let harness = try CaptureHarness(CaptureConfiguration(display: xvfb.name, fps: 60, region: nil, window: nil, slotCount: 8))
            #expect(harness.start() == .ready)
            Thread.sleep(forTimeInterval: 1.0)
            let heartbeatBefore = harness.statistics.captureHeartbeat.load(ordering: .relaxed)
            Thread.sleep(forTimeInterval: 0.5)
            let heartbeatAfter = harness.statistics.captureHeartbeat.load(ordering: .relaxed)
            let elapsedTicks = (MonotonicClock.now() - harness.startNs) / (harness.deadline(of: 1) - harness.deadline(of: 0))
            #expect(heartbeatAfter > heartbeatBefore, "the capture loop stalled while the consumer was away")
            #expect(harness.statistics.framesCaptured.load(ordering: .relaxed) == 8)
            // Every tick so far (about 90) is one of the 8 captured, a drop, or a counted miss; a stalled
            // loop would leave them unaccounted. Two may still be in flight.
            #expect(harness.accountedTicks >= elapsedTicks - 2, "\(elapsedTicks) ticks: \(harness.statistics.snapshot())")
            #expect(harness.statistics.framesDropped.load(ordering: .relaxed) > 0)
            // Once slots come back, frames flow again and they are still exact.
            var resumed = 0
            harness.consume(seconds: 30, until: { resumed >= 20 }) { frame in
                if frame.equals(image) { resumed += 1 }
            }
            #expect(resumed >= 20)
            #expect(harness.stop())
        }

        @Test func captureConnectionIsItsOwn() throws {
            let harness = try CaptureHarness(CaptureConfiguration(display: xvfb.name, fps: 60, region: nil, window: nil))
            #expect(harness.start() == .ready)
            // An error on the test's connection must not show up on the capture's, nor stop it.
            let errorsBefore = client.errorCount
            XMapWindow(client.display, 0x7fff_fff0)
            XSync(client.display, 0)
            #expect(client.errorCount == errorsBefore + 1)
            var frames = 0
            harness.consume(seconds: 30, until: { frames >= 20 }) { frame in
                if frame.equals(image) { frames += 1 }
            }
            #expect(frames >= 20)
            #expect(harness.statistics.xErrors.load(ordering: .relaxed) == 0)
            #expect(NamedThread.currentName != CaptureWorker.threadName)
            #expect(harness.stop())
        }

        @Test func stopCutsALongFrameWaitShort() throws {
            let harness = try CaptureHarness(CaptureConfiguration(display: xvfb.name, fps: 1, region: nil, window: nil))
            #expect(harness.start() == .ready)
            var ticks: [Int64] = []
            harness.consume(seconds: 30, until: { !ticks.isEmpty }) { frame in ticks.append(frame.tick) }
            #expect(ticks == [0], "tick 0 is grabbed at once")
            let asked = MonotonicClock.now()
            #expect(harness.stop())
            let stopped = MonotonicClock.now()
            // Tick 1 is due a second after the start; the stop must not wait for it (nor grab it).
            if asked < harness.deadline(of: 1) - 500_000_000 {
                #expect(stopped < harness.deadline(of: 1), "the stop waited \(Double(stopped - asked) / 1e6) ms")
                #expect(harness.statistics.framesCaptured.load(ordering: .relaxed) == 1)
            }
        }

        @Test func startupFailuresAreClear() throws {
            let outside = try CaptureHarness(CaptureConfiguration(
                display: xvfb.name, fps: 60, region: PixelRect(x: 0, y: 0, width: 9999, height: 10), window: nil))
            #expect(outside.start() == .failed(worker: CaptureWorker.threadName, message: "region 0,0,9999,10 is outside the 640x480 screen"))
            #expect(outside.thread.join(timeoutNanoseconds: 2_000_000_000))

            let missing = try CaptureHarness(CaptureConfiguration(display: xvfb.name, fps: 60, region: nil, window: "no-such-window-xyz"))
            guard case .failed(_, let message) = missing.start() else { Issue.record("no failure"); return }
            #expect(message.contains("no window matches 'no-such-window-xyz'"))

            let noDisplay = try CaptureHarness(CaptureConfiguration(display: ":389", fps: 60, region: nil, window: nil))
            guard case .failed(_, let displayMessage) = noDisplay.start() else { Issue.record("no failure"); return }
            #expect(displayMessage == "cannot open display :389")
        }
    }
}

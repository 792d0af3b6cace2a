import Capture
import CX11Shim
import Foundation
import RecorderCore
import Testing
import TestSupport

extension CaptureTests {
    @Suite(.serialized)
    struct WindowTarget {
        let fixture: DisplayFixture
        var xvfb: DisplayFixture { fixture }
        var client: TestXConnection { fixture.client }
        let background = TestImage(width: 640, height: 480, seed: 7)
        let content = TestImage(width: 160, height: 120, seed: 99)

        init() throws {
            fixture = try DisplayFixture()
            client.put(background, on: client.root)
        }

        @Test func followsAMovingWindowPixelExact() throws {
            let window = client.createWindow(content, x: 50, y: 40, title: "capture-target Alpha")
            let harness = try CaptureHarness(CaptureConfiguration(display: xvfb.name, fps: 60, region: nil, window: "target Alpha"))
            #expect(harness.start() == .ready)
            #expect(harness.worker.geometry == FrameGeometry(width: 160, height: 120, usesSharedMemory: true, target: "window target Alpha"))
            let positions = [(50, 40), (200, 100), (400, 300), (10, 350), (300, 20), (470, 355)]
            var frames: [(originX: Int32, originY: Int32, exact: Bool)] = []
            for (x, y) in positions {
                client.move(window, x: x, y: y)
                // At least 0.3 s at each place, and 10 frames there however slow the machine is.
                let arrived = MonotonicClock.now()
                harness.consume(seconds: 30, until: {
                    MonotonicClock.now() - arrived >= 300_000_000 && frames.suffix(10).allSatisfy { $0.originX == Int32(x) && $0.originY == Int32(y) }
                }) { frame in
                    frames.append((frame.originX, frame.originY, frame.equals(content)))
                    #expect(frame.flags & CapturedFrame.Flags.clipped == 0)
                }
            }
            #expect(harness.stop())
            // A frame between two moves may catch the move between the position query and the image; any frame
            // whose neighbours share its origin must be exact.
            for i in 1..<(frames.count - 1) where frames[i - 1].originX == frames[i].originX && frames[i + 1].originX == frames[i].originX
                && frames[i - 1].originY == frames[i].originY && frames[i + 1].originY == frames[i].originY {
                #expect(frames[i].exact, "frame \(i) at \(frames[i].originX),\(frames[i].originY) differs from the window")
            }
            let origins = Set(frames.map { "\($0.originX),\($0.originY)" })
            for (x, y) in positions { #expect(origins.contains("\(x),\(y)"), "no frame at \(x),\(y)") }
            #expect(frames.filter(\.exact).count >= frames.count * 9 / 10)
        }

        @Test func windowPartlyOffScreenIsPaddedBlackAndFlagged() throws {
            let window = client.createWindow(content, x: 20, y: 20, title: "capture-target Beta")
            let harness = try CaptureHarness(CaptureConfiguration(display: xvfb.name, fps: 60, region: nil, window: "Beta"))
            #expect(harness.start() == .ready)
            client.move(window, x: 560, y: 400) // 80x80 of 160x120 stay on screen
            Thread.sleep(forTimeInterval: 0.1)
            while let frame = harness.channel.filled.tryPop() { _ = harness.channel.released.tryPush(frame.slot) }
            var checked = 0
            harness.consume(seconds: 30, until: { checked >= 10 }) { frame in
                guard frame.originX == 560, frame.originY == 400 else { return }
                checked += 1
                #expect(frame.flags & CapturedFrame.Flags.clipped != 0)
                for y in [0, 40, 79] {
                    for x in [0, 33, 79] {
                        let offset = (y * 160 + x) * 4
                        #expect(frame.pixel(x: x, y: y) == Array(content.bytes[offset..<offset + 4]))
                    }
                }
                for (x, y) in [(80, 0), (159, 50), (10, 80), (159, 119)] {
                    #expect(frame.pixel(x: x, y: y) == [0, 0, 0, 0], "pixel \(x),\(y) should be black padding")
                }
            }
            // A window that shrinks is padded; one that grows is cropped to the first size.
            client.move(window, x: 100, y: 100)
            client.resize(window, width: 100, height: 60)
            Thread.sleep(forTimeInterval: 0.1)
            while let frame = harness.channel.filled.tryPop() { _ = harness.channel.released.tryPush(frame.slot) }
            var shrunk = 0
            harness.consume(seconds: 30, until: { shrunk >= 10 }) { frame in
                // Frames grabbed before the resize may still be queued on a loaded machine.
                guard frame.originX == 100, frame.originY == 100, frame.flags & CapturedFrame.Flags.clipped != 0 else { return }
                shrunk += 1
                #expect(frame.width == 160 && frame.height == 120)
                #expect(frame.flags & CapturedFrame.Flags.clipped != 0)
                #expect(frame.pixel(x: 5, y: 5) == Array(content.bytes[(5 * 160 + 5) * 4..<(5 * 160 + 5) * 4 + 4]))
                #expect(frame.pixel(x: 120, y: 30) == [0, 0, 0, 0])
            }
            #expect(harness.stop())
            #expect(checked >= 10)
            #expect(shrunk >= 10)
        }

        @Test func findsAWindowByItsLatin1Title() throws {
            // WM_NAME of type STRING is Latin-1: "Gemälde" is the byte 0xE4 there, which is no UTF-8.
            let window = client.createWindow(content, x: 60, y: 70, title: "ascii-name", className: "Plain")
            client.setLatin1Title(window, "capture-target Gem\u{e4}lde")
            let harness = try CaptureHarness(CaptureConfiguration(display: xvfb.name, fps: 60, region: nil, window: "Gem\u{e4}lde"))
            #expect(harness.start() == .ready)
            var exact = 0
            harness.consume(seconds: 0.3) { frame in
                if frame.originX == 60 && frame.originY == 70 && frame.equals(content) { exact += 1 }
            }
            #expect(harness.stop())
            client.destroy(window)
            #expect(exact >= 1)
        }

        @Test func unmappedWindowLeavesAGapAndComesBack() throws {
            let window = client.createWindow(content, x: 100, y: 100, title: "capture-target Gamma")
            let harness = try CaptureHarness(CaptureConfiguration(display: xvfb.name, fps: 60, region: nil, window: "Gamma"))
            #expect(harness.start() == .ready)
            var ticks: [Int64] = []
            var exact = 0
            harness.consume(seconds: 30, until: { exact >= 25 }) { frame in ticks.append(frame.tick); if frame.equals(content) { exact += 1 } }
            client.unmap(window)
            let unmapped = MonotonicClock.now()
            var duringGap = 0
            harness.consume(seconds: 0.5) { frame in
                ticks.append(frame.tick)
                // The UnmapNotify is read at the next tick; frames stamped well after it must not exist.
                if frame.timestampNs > unmapped + 100_000_000 { duringGap += 1 }
            }
            let mapping = MonotonicClock.now()
            client.map(window)
            harness.consume(seconds: 30, until: { exact >= 50 }) { frame in
                ticks.append(frame.tick)
                if frame.timestampNs < mapping, frame.timestampNs > unmapped + 100_000_000 { duringGap += 1 }
                if frame.equals(content) { exact += 1 }
            }
            // Destroyed and re-created under the same title: found again by the periodic search.
            client.destroy(window)
            Thread.sleep(forTimeInterval: 0.3)
            let again = client.createWindow(content, x: 300, y: 200, title: "capture-target Gamma again")
            var refound = 0
            harness.consume(seconds: 30, until: { refound >= 20 }) { frame in
                if frame.originX == 300 && frame.originY == 200 && frame.equals(content) { refound += 1 }
            }
            #expect(harness.stop())
            client.destroy(again)
            #expect(duringGap == 0, "frames kept coming while the window was unmapped")
            #expect(zip(ticks, ticks.dropFirst()).allSatisfy { $0 < $1 })
            let biggestJump = zip(ticks, ticks.dropFirst()).map { $1 - $0 }.max() ?? 0
            #expect(biggestJump >= 20, "the unmapped half second must show as a tick gap, biggest jump \(biggestJump)")
            #expect(exact >= 50)
            #expect(refound >= 20)
            let kinds = harness.drainNotes().map(\.kind)
            #expect(kinds == ["target-lost", "target-found", "target-lost", "target-found"], "notes: \(kinds)")
            #expect(harness.control.endReason?.reason == .stopped)
        }
    }

    @Suite(.serialized)
    struct DisplayLoss {
        @Test func killedServerEndsTheSessionAsDisplayLost() throws {
            let xvfb = try XvfbDisplay(width: 320, height: 240)
            defer { xvfb.kill() }
            let harness = try CaptureHarness(CaptureConfiguration(display: xvfb.name, fps: 60, region: nil, window: nil))
            #expect(harness.start() == .ready)
            var frames = 0
            harness.consume(seconds: 30, until: { frames >= 20 }) { _ in frames += 1 }
            #expect(frames >= 20)
            xvfb.kill()
            // Generous: it notices at its next tick, but a loaded machine may be slow to get there.
            harness.consume(seconds: 60, until: { harness.control.endReason != nil })
            #expect(harness.control.endReason?.reason == .displayLost)
            #expect(harness.thread.join(timeoutNanoseconds: 10_000_000_000), "the capture thread did not end")
            #expect(harness.drainNotes().contains { $0.kind == "display-lost" })
        }
    }
}

import Capture
import CX11
import CX11Shim
import CLinuxShim
import Foundation
import Logging
import RecorderCore
import Synchronization
import X11Support
#if canImport(Glibc)
import Glibc
#endif

/// capture-bench: grab cost of the capture thread against a bare XShmGetImage loop, wake-up error
/// against the fps grid, and drops with a consumer that keeps up. Run through bench/capture_bench.sh.
///
/// Usage: capture-bench [--display :N] [--seconds S] [--fps F]

struct Options {
    var display: String?
    var seconds = 10.0
    var fps = 60
}

func parseOptions() -> Options {
    var options = Options()
    var arguments = CommandLine.arguments.dropFirst().makeIterator()
    while let argument = arguments.next() {
        switch argument {
        case "--display": options.display = arguments.next()
        case "--seconds": options.seconds = Double(arguments.next() ?? "") ?? options.seconds
        case "--fps": options.fps = Int(arguments.next() ?? "") ?? options.fps
        default:
            print("usage: capture-bench [--display :N] [--seconds S] [--fps F]")
            exit(2)
        }
    }
    return options
}

func percentile(_ sorted: [Int64], _ p: Double) -> Int64 {
    guard !sorted.isEmpty else { return 0 }
    return sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * p + 0.5))]
}

func milliseconds(_ ns: Int64) -> String {
    let value = Double(ns) / 1e6
    let text = String(Int((value * 1000).rounded()))
    let padded = String(repeating: "0", count: max(0, 4 - text.count)) + text
    return "\(padded.dropLast(3)).\(padded.suffix(3)) ms"
}

func summary(_ values: [Int64]) -> String {
    let sorted = values.sorted()
    return "p50 \(milliseconds(percentile(sorted, 0.5)))  p99 \(milliseconds(percentile(sorted, 0.99)))  max \(milliseconds(sorted.last ?? 0))"
}

/// The floor: XShmGetImage of the whole screen into `segments` rotating segments, nothing else;
/// back to back, or paced on the same fps grid as the capture thread (cold caches after each sleep).
func bareShmLoop(display name: String?, iterations: Int, segments segmentCount: Int, pacedFPS: Int?) -> [Int64]? {
    guard let connection = try? XConnection(name: name) else { return nil }
    defer { connection.close() }
    let screen = PixelRect(x: 0, y: 0, width: connection.screenWidth, height: connection.screenHeight)
    var images: [SharedMemoryImage] = []
    for _ in 0..<segmentCount {
        guard let segment = try? SharedMemorySegment(byteCount: screen.area * 4),
              let image = SharedMemoryImage(connection: connection, segment: segment, width: screen.width, height: screen.height) else { return nil }
        images.append(image)
    }
    guard connection.attach(images) == nil else { return nil }
    defer { connection.release(images) }
    if pacedFPS == nil {
        // Noise on the screen, so nothing is trivially cached.
        let noise = images[0].segment.address
        var state: UInt64 = 0x1234_5678
        for offset in stride(from: 0, to: screen.area * 4, by: 8) {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            noise.storeBytes(of: state, toByteOffset: offset, as: UInt64.self)
        }
        let gc = XCreateGC(connection.display, connection.root, 0, nil)
        XShmPutImage(connection.display, connection.root, gc, images[0].xImage, 0, 0, 0, 0, UInt32(screen.width), UInt32(screen.height), 0)
        XFreeGC(connection.display, gc)
        connection.sync()
    }
    var durations: [Int64] = []
    durations.reserveCapacity(iterations)
    let start = MonotonicClock.now()
    for iteration in 0..<iterations {
        if let fps = pacedFPS { MonotonicClock.sleep(until: start + Int64(iteration) * 1_000_000_000 / Int64(fps)) }
        let before = MonotonicClock.now()
        _ = images[iteration % segmentCount].grab(screen, from: connection.root, on: connection)
        durations.append(MonotonicClock.now() - before)
    }
    return durations
}

/// The floor of wake-up error: clock_nanosleep(TIMER_ABSTIME) on the fps grid with nothing else to do.
func bareSleepLoop(iterations: Int, fps: Int) -> [Int64] {
    var lateness: [Int64] = []
    lateness.reserveCapacity(iterations)
    let start = MonotonicClock.now() + 1_000_000
    for tick in 0..<iterations {
        let deadline = start + Int64(tick) * 1_000_000_000 / Int64(fps)
        MonotonicClock.sleep(until: deadline)
        lateness.append(MonotonicClock.now() - deadline)
    }
    return lateness
}

let options = parseOptions()
_ = CLinuxShim_set_timer_slack_ns(1)
let bareIterations = 600
let bareSleep = bareSleepLoop(iterations: Int(options.seconds * Double(options.fps)), fps: options.fps)
guard let bare = bareShmLoop(display: options.display, iterations: bareIterations, segments: 1, pacedFPS: nil),
      let barePaced = bareShmLoop(display: options.display, iterations: bareIterations, segments: 8, pacedFPS: options.fps) else {
    print("capture-bench: cannot open display \(options.display ?? "$DISPLAY") or use MIT-SHM")
    exit(1)
}

let control = SessionControl()
let statistics = SessionStatistics()
let channel = FrameChannel(slotCount: 8, doorbell: Doorbell())
let notes = BoundedMailbox<SessionNote>(capacity: 1024)
var configuration = CaptureConfiguration(display: options.display, fps: options.fps, region: nil, window: nil)
let timings = CaptureTimings(capacity: Int(options.seconds * Double(options.fps)) + 16)
configuration.timings = timings
let worker = CaptureWorker(configuration: configuration, control: control, statistics: statistics, frames: channel, notes: notes,
                           logger: Logger(label: "capture-bench"))
let barrier = StartupBarrier(workers: [CaptureWorker.threadName])
let captureThread = try NamedThread.spawn(name: CaptureWorker.threadName) { worker.run(startup: barrier) }
guard barrier.wait(timeoutNanoseconds: 10_000_000_000) == .ready, let geometry = worker.geometry else {
    print("capture-bench: the capture thread did not start")
    exit(1)
}
// The consumer keeps up: it reads one byte per row (so the pages are really touched) and releases the slot.
let checksum = Atomic<Int>(0)
let consumer = try NamedThread.spawn(name: "bench-consumer") {
    while !control.shouldStop || !channel.filled.isEmpty {
        guard let frame = channel.filled.pop(timeoutNanoseconds: 100_000_000, interruptedBy: control) else { continue }
        var sum = 0
        for row in stride(from: 0, to: Int(frame.height), by: 1) {
            sum &+= Int(frame.pixels.load(fromByteOffset: row * Int(frame.bytesPerLine), as: UInt8.self))
        }
        checksum.add(sum, ordering: .relaxed)
        _ = channel.released.tryPush(frame.slot)
    }
}
let cpuBefore = MonotonicClock.now()
control.begin(at: MonotonicClock.now())
_ = control.sleep(until: MonotonicClock.now() + Int64(options.seconds * 1e9))
control.requestStop(.duration)
captureThread.join(timeoutNanoseconds: 2_000_000_000)
consumer.join(timeoutNanoseconds: 2_000_000_000)
let elapsed = Double(MonotonicClock.now() - cpuBefore) / 1e9

let snapshot = statistics.snapshot()
let expectedTicks = Int64(elapsed * Double(options.fps))
print("capture-bench: \(geometry.width)x\(geometry.height) at \(options.fps) FPS for \(String(format: "%.1f", options.seconds)) s on display \(options.display ?? "$DISPLAY"), MIT-SHM \(geometry.usesSharedMemory ? "on" : "off")")
print("  bare XShmGetImage, back to back, 1 segment:  \(summary(bare))")
print("  bare XShmGetImage, \(options.fps) FPS grid, 8 segments: \(summary(barePaced))")
print("  capture thread, image request:                 \(summary(timings.imageDurationNs))")
print("  capture thread, pointer query + image:         \(summary(timings.grabDurationNs))")
func ratio(_ values: [Int64], _ reference: [Int64]) -> String {
    let value = Double(percentile(values.sorted(), 0.5)) / Double(max(1, percentile(reference.sorted(), 0.5)))
    return String(format: "%.2fx", value)
}
print("  p50 vs paced bare loop: image \(ratio(timings.imageDurationNs, barePaced)), with pointer query \(ratio(timings.grabDurationNs, barePaced)); vs back-to-back: \(ratio(timings.grabDurationNs, bare))")
print("  bare clock_nanosleep wake-up error (same grid): \(summary(bareSleep))")
print("  capture thread wake-up error vs deadline:     \(summary(timings.wakeLatenessNs))")
print("  frames captured \(snapshot.framesCaptured) of ~\(expectedTicks) ticks, dropped \(snapshot.framesDropped), ticks missed \(snapshot.ticksMissed), grab failures \(snapshot.grabFailures), X errors \(snapshot.xErrors)")

// storage-bench: measures the session writer on recorded frames, and serves as the writer process the
// crash-recovery test SIGKILLs.
//
//   storage-bench bench FRAMES.bgrx WIDTH HEIGHT OUTDIR [REPEAT]
//       every codec x keyframe interval x reference policy over the frames (BGRX, packed rows),
//       repeated REPEAT times (default 1); prints one line per run and leaves the files in OUTDIR.
//   storage-bench bench FRAMES.bgrx WIDTH HEIGHT OUTDIR REPEAT CODEC:LEVEL:K:POLICY[:motion],...
//       the named set-ups only; PACE_FPS=60 feeds the frames at 60 FPS (as capture would).
//   storage-bench crash-writer PATH [WIDTH HEIGHT]
//       writes synthetic frames (the pattern in Tests/HDF5StoreTests/SyntheticFrames.swift) at 60 FPS plus
//       input events until killed; prints "written N" every 100 ms.
//   storage-bench recover FILE.h5
//       SessionRecovery on FILE, prints the report as JSON.
import Foundation
import FrameCodec
import HDF5Store
import Logging
import RecorderCore
#if canImport(Glibc)
import Glibc
#endif

/// The writer's side of a session: its channels and the counters it updates.
struct Rings {
    let control = SessionControl()
    let statistics = SessionStatistics()
    let channels: SessionChannels

    init(slots: Int) {
        channels = SessionChannels(capacities: .init(frameSlots: slots, events: 1 << 14, devices: 64, samples: 256, windows: 64, notes: 256))
    }

    func writer(_ configuration: WriterConfiguration, logger: Logger) -> SessionWriter {
        SessionWriter(configuration: configuration, control: control, statistics: statistics, channels: channels, logger: logger)
    }
}

func configuration(path: String, width: Int, height: Int, codec: SessionOptions.Codec, interval: Int, policy: ReferencePolicy,
                   motionReference: Bool = false, level: Int = 1) -> WriterConfiguration {
    let options = SessionOptions(output: path, codec: codec, compressionLevel: level, keyframeInterval: interval, motionReference: motionReference)
    let now = MonotonicClock.now()
    return WriterConfiguration(
        path: path, options: options,
        geometry: FrameGeometry(width: width, height: height, usesSharedMemory: true, target: "screen"),
        stateFields: [StateField(name: "cursor_x", kind: .int32), StateField(name: "cursor_y", kind: .int32)],
        stateAttributes: [:], inputAttributes: [:], rootAttributes: ["recorder_version": "storage-bench"],
        sessionStartNs: now, monoToUTCNs: MonotonicClock.monotonicToUTCOffset(), referencePolicy: policy)
}

/// Starts the writer on its own thread; returns once it reported ready.
func startWriter(_ writer: SessionWriter) throws -> NamedThread {
    let startup = StartupBarrier(workers: [SessionWriter.threadName])
    let thread = try NamedThread.spawn(name: SessionWriter.threadName) {
        writer.run(startup: startup)
    }
    guard startup.wait(timeoutNanoseconds: 10_000_000_000) == .ready else {
        fatalError("writer did not start: \(String(describing: writer.result))")
    }
    return thread
}

/// CPU time of the whole process so far, in nanoseconds.
func processCPUTime() -> Int64 {
    var now = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now)
    return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
}

func bench(arguments: [String]) throws {
    let framesPath = arguments[0]
    let width = Int(arguments[1])!, height = Int(arguments[2])!
    let outDirectory = arguments[3]
    let repeats = arguments.count > 4 ? Int(arguments[4])! : 1
    let data = try Data(contentsOf: URL(fileURLWithPath: framesPath), options: .alwaysMapped)
    let frameBytes = width * height * 4
    let count = data.count / frameBytes
    try FileManager.default.createDirectory(atPath: outDirectory, withIntermediateDirectories: true)
    var logger = Logger(label: "bench")
    logger.logLevel = .warning
    print("frames \(count) x \(repeats), \(width)x\(height); raw RGB \(width * height * 3 / 1_000_000) MB/frame")
    print("codec interval policy        ratio  out_MB/s@60fps  in_MB/s  cpu_ms/frame  p50_ms  p99_ms  keyframes  file")
    // PACE_FPS=60 feeds frames at that rate, as capture does, so the compressors are never behind
    // and the sizes are those of a live session; unpaced, the writer degrades under the flood.
    let paceFPS = Int(ProcessInfo.processInfo.environment["PACE_FPS"] ?? "") ?? 0
    let runs = arguments.count > 5 ? try arguments[5].split(separator: ",").map { try BenchRun(String($0)) } : BenchRun.standard
    try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
        for run in runs {
            let (codec, interval, policy) = (run.codec, run.interval, run.policy)
            let path = "\(outDirectory)/bench-\(run.name).h5"
            unlink(path)
            let rings = Rings(slots: 8)
            let writer = rings.writer(configuration(path: path, width: width, height: height, codec: codec, interval: interval, policy: policy,
                                                                  motionReference: run.motion, level: run.level), logger: logger)
            let thread = try startWriter(writer)
            var free = Array((0..<8).map(Int32.init).reversed())
            let start = MonotonicClock.now()
            // The writer and its compressor threads: the whole process minus this feeding thread.
            let processBefore = processCPUTime()
            let feederBefore = MonotonicClock.threadCPUTime()
            for n in 0..<(count * repeats) {
                if paceFPS > 0 { MonotonicClock.sleep(until: start + Int64(n) * 1_000_000_000 / Int64(paceFPS)) }
                while free.isEmpty {
                    if let slot = rings.channels.frames.released.pop(timeoutNanoseconds: 1_000_000_000) { free.append(slot) }
                }
                let slot = free.removeLast()
                let frame = CapturedFrame(
                    pixels: raw.baseAddress! + (n % count) * frameBytes, slot: slot, width: Int32(width), height: Int32(height),
                    bytesPerLine: Int32(width * 4), tick: Int64(n), timestampNs: start + Int64(n) * 16_666_667,
                    cursorX: 10, cursorY: 20, originX: 0, originY: 0, flags: 0)
                while !rings.channels.frames.filled.tryPush(frame) { usleep(100) }
            }
            let feederCPU = MonotonicClock.threadCPUTime() - feederBefore
            writer.producersFinished()
            thread.join(timeoutNanoseconds: 60_000_000_000)
            let writerCPU = processCPUTime() - processBefore - feederCPU
            let wall = MonotonicClock.now() - start
            guard let result = writer.result else { fatalError("no result") }
            let frames = Double(result.framesWritten)
            let ratio = Double(result.rawFrameBytes) / Double(max(1, result.storedFrameBytes))
            let outRate = Double(result.storedFrameBytes) / frames * 60 / 1e6
            let inRate = Double(result.rawFrameBytes) / (Double(wall) / 1e9) / 1e6
            let cpuPerFrame = Double(writerCPU) / frames / 1e6
            print(String(format: "%-5@ %8d %-13@ %6.1f %15.1f %8.0f %13.2f %7.2f %7.2f %10lld  %@",
                         codec.rawValue, interval, policy.rawValue, ratio, outRate, inRate, cpuPerFrame,
                         Double(result.frameWriteP50Ns) / 1e6, Double(result.frameWriteP99Ns) / 1e6,
                         result.keyframesWritten, (path as NSString).lastPathComponent))
        }
    }
}

/// One writer set-up of `bench`, written `CODEC:LEVEL:K:POLICY[:motion]` (e.g. `zstd:1:60:last-keyframe:motion`).
struct BenchRun {
    var codec: SessionOptions.Codec
    var level: Int
    var interval: Int
    var policy: ReferencePolicy
    var motion: Bool

    static let standard: [BenchRun] = [
        (SessionOptions.Codec.zstd, 1, ReferencePolicy.previousFrame), (.lz4, 1, .previousFrame), (.none, 1, .previousFrame),
        (.zstd, 10, .previousFrame), (.zstd, 30, .previousFrame), (.zstd, 60, .previousFrame), (.zstd, 120, .previousFrame),
        (.zstd, 10, .lastKeyframe), (.zstd, 30, .lastKeyframe), (.zstd, 60, .lastKeyframe),
        (.lz4, 30, .previousFrame), (.lz4, 60, .previousFrame), (.none, 60, .previousFrame),
    ].map { BenchRun(codec: $0.0, level: 1, interval: $0.1, policy: $0.2, motion: false) }

    init(codec: SessionOptions.Codec, level: Int, interval: Int, policy: ReferencePolicy, motion: Bool) {
        (self.codec, self.level, self.interval, self.policy, self.motion) = (codec, level, interval, policy, motion)
    }

    init(_ text: String) throws {
        let parts = text.split(separator: ":").map(String.init)
        guard parts.count == 4 || (parts.count == 5 && parts[4] == "motion"),
              let codec = SessionOptions.Codec(rawValue: parts[0]), let level = Int(parts[1]), let interval = Int(parts[2]),
              let policy = ReferencePolicy(rawValue: parts[3]) else {
            throw RecorderError.invalidConfiguration("bad run '\(text)': want CODEC:LEVEL:K:POLICY[:motion]")
        }
        self.init(codec: codec, level: level, interval: interval, policy: policy, motion: parts.count == 5)
    }

    var name: String { "\(codec.rawValue)\(level)-k\(interval)-\(policy.rawValue)\(motion ? "-motion" : "")" }
}

/// One unbuffered line on stdout (the parent reads progress while we run).
func report(_ line: String) {
    let text = line + "\n"
    text.utf8CString.withUnsafeBufferPointer { _ = Glibc.write(1, $0.baseAddress, $0.count - 1) }
}

/// The crash test's writer: synthetic frames at 60 FPS until SIGKILL; with "motion" the background
/// pans and the file is format 2 (motion reference).
func crashWriter(arguments: [String]) throws {
    let path = arguments[0]
    let width = arguments.count > 2 ? Int(arguments[1])! : 160
    let height = arguments.count > 2 ? Int(arguments[2])! : 120
    let interval = arguments.count > 3 ? Int(arguments[3])! : 30
    let motion = arguments.count > 4 && arguments[4] == "motion"
    var logger = Logger(label: "crash-writer")
    logger.logLevel = .warning
    let rings = Rings(slots: 8)
    let writer = rings.writer(configuration(path: path, width: width, height: height, codec: .zstd, interval: interval, policy: .previousFrame,
                                            motionReference: motion), logger: logger)
    _ = try startWriter(writer)
    let stride = width * 4 + 64
    let slots = (0..<8).map { _ in UnsafeMutableRawPointer.allocate(byteCount: stride * height, alignment: 64) }
    var free = Array((0..<8).map(Int32.init).reversed())
    let start = MonotonicClock.now()
    var lastReport = start
    report("started")
    for n in 0... {
        MonotonicClock.sleep(until: start + Int64(n) * 16_666_667)
        while let slot = rings.channels.frames.released.tryPop() { free.append(slot) }
        if let slot = free.popLast() {
            SyntheticPattern.fill(slots[Int(slot)], width: width, height: height, stride: stride, index: n, pan: motion ? 1 : 0)
            rings.channels.frames.filled.tryPush(CapturedFrame(
                pixels: UnsafeRawPointer(slots[Int(slot)]), slot: slot, width: Int32(width), height: Int32(height),
                bytesPerLine: Int32(stride), tick: Int64(n), timestampNs: start + Int64(n) * 16_666_667,
                cursorX: Int32(n), cursorY: Int32(-n), originX: 0, originY: 0, flags: 0))
        }
        rings.channels.events.tryPush(InputEvent(tNs: start + Int64(n) * 16_666_667, device: 0, type: 2, code: 0, value: Int32(n)))
        let now = MonotonicClock.now()
        if now - lastReport >= 100_000_000 {
            lastReport = now
            report("written \(rings.statistics.framesWritten.load(ordering: .relaxed)) events \(rings.statistics.inputEventsWritten.load(ordering: .relaxed))")
        }
    }
}

/// The synthetic frame pattern, mirrored by the Python check: a background (panning 2 px left and 1 px
/// up per frame when `pan` is 1) and a moving square.
enum SyntheticPattern {
    static func fill(_ base: UnsafeMutableRawPointer, width: Int, height: Int, stride: Int, index: Int, pan: Int = 0) {
        let x0 = (index * 5) % max(1, width - 32), y0 = (index * 3) % max(1, height - 32)
        for y in 0..<height {
            let row = (base + y * stride).assumingMemoryBound(to: UInt8.self)
            for x in 0..<width {
                let p = row + 4 * x
                if x >= x0 && x < x0 + 32 && y >= y0 && y < y0 + 32 {
                    p[0] = UInt8(index & 255); p[1] = UInt8(255 - (index & 255)); p[2] = UInt8((index * 7) & 255)
                } else {
                    let u = x + 2 * pan * index, v = y + pan * index
                    p[0] = UInt8((u * 7 + v * 13) & 255); p[1] = UInt8((u ^ v) & 255); p[2] = UInt8(((u + v) / 4) & 255)
                }
                p[3] = 0xEE
            }
        }
    }
}

let arguments = Array(CommandLine.arguments.dropFirst())
switch arguments.first {
case "bench": try bench(arguments: Array(arguments.dropFirst()))
case "crash-writer": try crashWriter(arguments: Array(arguments.dropFirst()))
case "recover":
    let report = try SessionRecovery.recover(path: arguments[1])
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    print(String(decoding: try encoder.encode(report), as: UTF8.self))
default:
    FileHandle.standardError.write(Data("usage: storage-bench bench FRAMES.bgrx W H OUTDIR [REPEAT] | crash-writer PATH [W H [K [motion]]]\n".utf8))
    exit(2)
}

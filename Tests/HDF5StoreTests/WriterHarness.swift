import Foundation
import FrameCodec
import HDF5Store
import Logging
import RecorderCore

/// Runs one `SessionWriter` on its own named thread, as the orchestrator does, and plays capture:
/// BGRX frames in slot memory the harness owns, handed over through the real rings.
final class WriterHarness {
    let control = SessionControl()
    let statistics = SessionStatistics()
    let channels = SessionChannels(capacities: .init(frameSlots: WriterHarness.slotCount, events: 1 << 13, devices: 16, samples: 256,
                                                     windows: 16, notes: 64))
    var frames: FrameChannel { channels.frames }
    var events: SPSCRing<InputEvent> { channels.events }
    var devices: BoundedMailbox<InputDeviceInfo> { channels.devices }
    var samples: BoundedMailbox<StateSample> { channels.samples }
    var windows: BoundedMailbox<WindowSnapshot> { channels.windows }
    var notes: BoundedMailbox<SessionNote> { channels.notes }
    let writer: SessionWriter
    let configuration: WriterConfiguration
    private var thread: NamedThread?
    private let slots: [UnsafeMutableRawPointer]
    private var free: [Int32]
    let stride: Int
    private(set) var pushed: Int64 = 0
    /// Every pushed frame as the RGB the file must give back, concatenated.
    private(set) var expectedRGB = Data()
    let startNs = MonotonicClock.now()

    static let slotCount = 8

    init(configuration: WriterConfiguration, stridePadding: Int = 24) {
        self.configuration = configuration
        var logger = Logger(label: "test-writer")
        logger.logLevel = .warning
        writer = SessionWriter(configuration: configuration, control: control, statistics: statistics, channels: channels, logger: logger)
        let stride = configuration.geometry.width * 4 + stridePadding
        let bytes = stride * configuration.geometry.height
        self.stride = stride
        slots = (0..<Self.slotCount).map { _ in
            let p = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
            p.initializeMemory(as: UInt8.self, repeating: 0xA5, count: bytes)
            return p
        }
        free = (0..<Int32(Self.slotCount)).reversed()
    }

    deinit { slots.forEach { $0.deallocate() } }

    static func configuration(
        path: String, width: Int, height: Int, codec: SessionOptions.Codec = .zstd, interval: Int = 10,
        policy: ReferencePolicy = .lastKeyframe, motionReference: Bool? = nil, stateFields: [StateField] = [], meta: [SessionOptions.MetaEntry] = [],
        reserve: Int64 = WriterConfiguration.defaultReservedFreeBytes,
        compressionThreads: Int = WriterConfiguration.defaultCompressionThreads, compressionDelayNs: Int64 = 0
    ) -> WriterConfiguration {
        let options = SessionOptions(output: path, codec: codec, compressionLevel: 1, keyframeInterval: interval, meta: meta,
                                     motionReference: motionReference)
        return WriterConfiguration(
            path: path, options: options,
            geometry: FrameGeometry(width: width, height: height, usesSharedMemory: true, target: "screen"),
            stateFields: stateFields, stateAttributes: ["probes_json": "[{\"name\":\"hp\"}]", "probe_config": "[[probe]]"],
            inputAttributes: ["sources": "[\"replay:test\"]"],
            rootAttributes: ["recorder_version": "test-1.0", "options_json": "{\"fps\":60}"],
            sessionStartNs: 1_000_000_000, monoToUTCNs: 1_700_000_000_000_000_000, referencePolicy: policy,
            reservedFreeBytes: reserve, compressionThreads: compressionThreads, testCompressionDelayNs: compressionDelayNs)
    }

    /// Starts the writer thread and waits for its start-up report.
    func start() throws -> StartupBarrier.Outcome {
        let startup = StartupBarrier(workers: [SessionWriter.threadName])
        let writer = self.writer
        thread = try NamedThread.spawn(name: SessionWriter.threadName) { writer.run(startup: startup) }
        return startup.wait(timeoutNanoseconds: 10_000_000_000)
    }

    /// Hands one frame to the writer; `paint` gets the BGRX slot (rows `stride` apart) and returns the
    /// RGB image the file must hold.
    func push(tick: Int64? = nil, paint: (UnsafeMutableRawPointer) -> [UInt8]) {
        while free.isEmpty {
            if let slot = frames.released.pop(timeoutNanoseconds: 5_000_000_000) { free.append(slot) }
        }
        while let slot = frames.released.tryPop() { free.append(slot) }
        let slot = free.removeLast()
        let rgb = paint(slots[Int(slot)])
        expectedRGB.append(contentsOf: rgb)
        let n = pushed
        let frame = CapturedFrame(
            pixels: UnsafeRawPointer(slots[Int(slot)]), slot: slot, width: Int32(configuration.geometry.width),
            height: Int32(configuration.geometry.height), bytesPerLine: Int32(stride), tick: tick ?? n,
            timestampNs: startNs + n * 16_666_667, cursorX: Int32(n), cursorY: Int32(-n), originX: 5, originY: 7,
            flags: UInt32(n % 3))
        while !frames.filled.tryPush(frame) { usleep(200) }
        pushed += 1
    }

    /// Pushes `count` frames of `ScreenLikeFrames` (`seed`), running `before(i)` before frame i is pushed.
    func pushScreenLike(count: Int, seed: UInt64, before: (Int) -> Void = { _ in }) {
        let geometry = configuration.geometry
        var source = ScreenLikeFrames(width: geometry.width, height: geometry.height, seed: seed)
        for i in 0..<count {
            before(i)
            let rgb = source.next(index: i)
            push { slot in
                ScreenLikeFrames.paint(rgb, into: slot, width: geometry.width, height: geometry.height, stride: stride)
                return rgb
            }
        }
    }

    /// Says the producers are done, waits for the writer to seal the file.
    func finish() -> WriterResult? {
        writer.producersFinished()
        thread?.join(timeoutNanoseconds: 60_000_000_000)
        return writer.result
    }

    /// Writes the expected RGB frames next to the file for the Python check.
    func saveExpected(to path: String) throws {
        try expectedRGB.write(to: URL(fileURLWithPath: path))
    }
}

/// Frames that look like a screen: a random first image, then small rectangles changing, some frames
/// identical to the one before, and a scene cut (a whole new random image).
struct ScreenLikeFrames {
    var generator: SplitMix
    let width: Int
    let height: Int
    private(set) var current: [UInt8]

    init(width: Int, height: Int, seed: UInt64) {
        self.width = width
        self.height = height
        generator = SplitMix(seed: seed)
        current = []
        current = randomImage()
    }

    func randomImage() -> [UInt8] {
        var g = generator
        return (0..<(width * height * 3)).map { _ in UInt8(truncatingIfNeeded: g.next()) }
    }

    /// Advances to frame `index` and returns its RGB.
    mutating func next(index: Int) -> [UInt8] {
        if index == 0 { return current }
        if index % 5 == 0 { return current } // unchanged frame: an all-zero residual
        if index == 23 {
            _ = generator.next()
            current = randomImage() // scene cut
            for _ in 0..<(width * height * 3) { _ = generator.next() }
            return current
        }
        let w = 1 + Int(generator.next() % UInt64(width / 3)), h = 1 + Int(generator.next() % UInt64(height / 3))
        let x0 = Int(generator.next() % UInt64(width - w)), y0 = Int(generator.next() % UInt64(height - h))
        for y in y0..<(y0 + h) {
            for x in x0..<(x0 + w) {
                let value = generator.next()
                for c in 0..<3 { current[(y * width + x) * 3 + c] = UInt8(truncatingIfNeeded: value >> (8 * c)) }
            }
        }
        return current
    }

    /// Writes `rgb` into a BGRX slot (X bytes set to junk, which the file must not keep).
    static func paint(_ rgb: [UInt8], into slot: UnsafeMutableRawPointer, width: Int, height: Int, stride: Int) {
        for y in 0..<height {
            let row = (slot + y * stride).assumingMemoryBound(to: UInt8.self)
            for x in 0..<width {
                let i = (y * width + x) * 3
                row[4 * x] = rgb[i + 2]
                row[4 * x + 1] = rgb[i + 1]
                row[4 * x + 2] = rgb[i]
                row[4 * x + 3] = UInt8(truncatingIfNeeded: x &* 31 &+ y)
            }
        }
    }
}

/// A small deterministic random generator.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Parses the one JSON object a check script prints.
func parseJSON(_ text: String) -> [String: Any] {
    let line = text.split(separator: "\n").last.map(String.init) ?? ""
    return (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] ?? [:]
}

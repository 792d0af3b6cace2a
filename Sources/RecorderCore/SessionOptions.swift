import Foundation

/// Everything that describes one session, as given on the command line or in a `start` request.
public struct SessionOptions: Sendable, Equatable, Codable {
    /// Frame chunk codec.
    public enum Codec: String, Sendable, Equatable, Codable, CaseIterable {
        case zstd, lz4, none
    }

    /// Where input events come from.
    public enum InputSource: Sendable, Equatable, Codable, CustomStringConvertible {
        /// Every readable /dev/input/event*, with hotplug.
        case auto
        /// No input recording.
        case none
        /// An evemu recording played in real time as a live device.
        case replay(path: String, eventsPath: String?)

        /// Parses `auto`, `none` or `replay:PATH[,EVENTS_PATH]`.
        public init(parsing text: String) throws(RecorderError) {
            switch text {
            case "auto": self = .auto
            case "none": self = .none
            default:
                guard text.hasPrefix("replay:") else {
                    throw .invalidConfiguration("--input must be auto, none or replay:PATH[,EVENTS_PATH], got '\(TerminalText.escaped(text))'")
                }
                let rest = text.dropFirst("replay:".count)
                let parts = rest.split(separator: ",", maxSplits: 1).map(String.init)
                guard let path = parts.first, !path.isEmpty else {
                    throw .invalidConfiguration("--input replay: needs a path, got '\(TerminalText.escaped(text))'")
                }
                self = .replay(path: path, eventsPath: parts.count > 1 ? parts[1] : nil)
            }
        }

        public var description: String {
            switch self {
            case .auto: return "auto"
            case .none: return "none"
            case .replay(let path, let events): return "replay:\(path)" + (events.map { ",\($0)" } ?? "")
            }
        }
    }

    /// Output file path (`recorder record --output`, or OUTPUT_DIR/NAME.h5 for the daemon).
    public var output: String
    /// X display name; nil means $DISPLAY.
    public var display: String?
    public var fps: Int
    public var region: PixelRect?
    public var window: String?
    public var codec: Codec
    /// zstd level (1 is the measured sweet spot) or lz4 acceleration.
    public var compressionLevel: Int
    /// 1 = every stored frame is whole; K > 1 allows XOR residuals with a whole frame at least every K frames.
    public var keyframeInterval: Int
    public var inputs: [InputSource]
    public var stateConfig: String?
    /// Attributes of /meta, in the order given.
    public var meta: [MetaEntry]
    public var redactKeys: Bool
    public var inputFocus: String?
    /// Seconds; nil records until stopped.
    public var duration: Double?
    /// State sampler rate in Hz.
    public var stateRate: Double
    /// Residuals may be taken against the reference image displaced (a panning or scrolling view):
    /// writes `/video/reference_shift` and format_version 2, which readers of format 1 cannot decode.
    /// nil (the default) means on whenever there are residuals (`keyframeInterval` > 1); false writes
    /// format 1 for old readers; true asks for it explicitly (refused with `keyframeInterval` 1).
    public var motionReference: Bool?
    /// When the session moves on to its next part file; nil (or no limit) writes one file.
    public var split: SplitPolicy?
    /// The command run for each sealed part (`on_part_sealed`); nil runs none.
    public var uploadHook: UploadHook?
    /// Free space to leave and the output folder's quota; nil or no bound: only the writer's small reserve.
    public var diskBounds: DiskBounds?

    /// Whether the file is format 2: the motion reference is wanted and residuals exist to use it.
    public var usesMotionReference: Bool { (motionReference ?? true) && keyframeInterval > 1 }

    /// One `--meta KEY=VALUE`.
    public struct MetaEntry: Sendable, Equatable, Codable {
        public var key: String
        public var value: String
        public init(key: String, value: String) {
            self.key = key
            self.value = value
        }

        /// Parses `KEY=VALUE`.
        public init(parsing text: String) throws(RecorderError) {
            guard let equals = text.firstIndex(of: "="), equals != text.startIndex else {
                throw .invalidConfiguration("--meta must be KEY=VALUE, got '\(TerminalText.escaped(text))'")
            }
            self.init(key: String(text[..<equals]), value: String(text[text.index(after: equals)...]))
        }
    }

    public static let defaultKeyframeInterval = 60

    public init(
        output: String, display: String? = nil, fps: Int = 60, region: PixelRect? = nil, window: String? = nil,
        codec: Codec = .zstd, compressionLevel: Int = 1, keyframeInterval: Int = SessionOptions.defaultKeyframeInterval,
        inputs: [InputSource] = [.auto], stateConfig: String? = nil, meta: [MetaEntry] = [],
        redactKeys: Bool = false, inputFocus: String? = nil, duration: Double? = nil, stateRate: Double = 5,
        motionReference: Bool? = nil, split: SplitPolicy? = nil, uploadHook: UploadHook? = nil, diskBounds: DiskBounds? = nil
    ) {
        self.output = output
        self.display = display
        self.fps = fps
        self.region = region
        self.window = window
        self.codec = codec
        self.compressionLevel = compressionLevel
        self.keyframeInterval = keyframeInterval
        self.inputs = inputs
        self.stateConfig = stateConfig
        self.meta = meta
        self.redactKeys = redactKeys
        self.inputFocus = inputFocus
        self.duration = duration
        self.stateRate = stateRate
        self.motionReference = motionReference
        self.split = split
        self.uploadHook = uploadHook
        self.diskBounds = diskBounds
    }

    /// Checks every field against its range (`Limits`); the message names the option and the range.
    ///
    /// Every way options arrive (command line, `start` request, config file) ends here, so a number
    /// that passes is safe for the arithmetic after it (nanosecond deadlines, pixel offsets, C ints).
    public func validate() throws(RecorderError) {
        typealias L = Limits
        func check<T: Comparable>(_ value: T, in range: ClosedRange<T>, _ name: String) throws(RecorderError) {
            guard range.contains(value) else {
                throw .invalidConfiguration("\(name) must be \(range.lowerBound) to \(range.upperBound), got \(value)")
            }
        }
        func checkLength(_ text: String?, _ limit: Int, _ name: String) throws(RecorderError) {
            guard let text, text.utf8.count > limit else { return }
            throw .invalidConfiguration("\(name) is \(text.utf8.count) bytes long; at most \(limit) are allowed")
        }
        try check(fps, in: L.fps, "--fps")
        try check(keyframeInterval, in: L.keyframeInterval, "--keyframe-interval")
        if motionReference == true && keyframeInterval == 1 {
            throw .invalidConfiguration("--motion-reference needs --keyframe-interval above 1 (with 1 every frame is stored whole)")
        }
        try check(compressionLevel, in: L.compressionLevel(codec), "--compression-level (\(codec.rawValue))")
        if let duration {
            guard duration.isFinite, duration > 0, duration <= L.maxDurationSeconds else {
                throw .invalidConfiguration("--duration must be more than 0 and at most \(Int(L.maxDurationSeconds)) seconds, got \(duration)")
            }
        }
        guard stateRate.isFinite, L.stateRate.contains(stateRate) else {
            throw .invalidConfiguration("--state-rate must be \(L.stateRate.lowerBound) to \(L.stateRate.upperBound) Hz, got \(stateRate)")
        }
        if let region { try region.validate() }
        if let split { try split.validate() }
        if let uploadHook { try uploadHook.validate() }
        if let diskBounds { try diskBounds.validate() }
        if region != nil && window != nil { throw .invalidConfiguration("--region and --window cannot be used together") }
        if let window, window.isEmpty { throw .invalidConfiguration("--window needs a non-empty TEXT") }
        try checkLength(window, L.maxTextBytes, "--window")
        try checkLength(inputFocus, L.maxTextBytes, "--input-focus")
        try checkLength(display, L.maxTextBytes, "--display")
        try checkLength(output, L.maxPathBytes, "--output")
        try checkLength(stateConfig, L.maxPathBytes, "--state-config")
        guard inputs.count <= L.maxInputs else { throw .invalidConfiguration("--input is given \(inputs.count) times; at most \(L.maxInputs) are allowed") }
        if inputs.count > 1 && inputs.contains(.none) { throw .invalidConfiguration("--input none cannot be combined with other inputs") }
        for case .replay(let path, let events) in inputs {
            try checkLength(path, L.maxPathBytes, "--input replay path")
            try checkLength(events, L.maxPathBytes, "--input replay events path")
        }
        guard meta.count <= L.maxMetaEntries else { throw .invalidConfiguration("--meta is given \(meta.count) times; at most \(L.maxMetaEntries) are allowed") }
        var keys = Set<String>()
        for entry in meta {
            try checkLength(entry.key, L.maxMetaKeyBytes, "--meta key")
            try checkLength(entry.value, L.maxTextBytes, "--meta value of '\(TerminalText.escaped(entry.key))'")
            if entry.key.unicodeScalars.contains(where: TerminalText.isControl) {
                throw .invalidConfiguration("--meta key '\(TerminalText.escaped(entry.key))' contains control characters")
            }
            guard keys.insert(entry.key).inserted else {
                throw .invalidConfiguration("--meta key '\(TerminalText.escaped(entry.key))' given twice")
            }
        }
    }

    /// The range of every number and the size of every text a session accepts.
    public enum Limits {
        public static let fps = 1...240
        /// X11 coordinates are signed 16-bit and sizes unsigned 16-bit; no screen is wider than 32767.
        public static let coordinate = 0...32_767
        public static let size = 1...32_767
        public static let keyframeInterval = 1...100_000
        /// A year: the nanosecond deadline then stays far from Int64's end.
        public static let maxDurationSeconds: Double = 31_536_000
        /// One sample per 100 s to 60 per second.
        public static let stateRate: ClosedRange<Double> = 0.01...60
        public static let maxTextBytes = 4096
        public static let maxPathBytes = 4096
        public static let maxInputs = 32
        public static let maxMetaEntries = 256
        public static let maxMetaKeyBytes = 256

        /// zstd levels are 1 to ZSTD_maxCLevel (22); lz4 accelerations 1 to LZ4's 65537 (none ignores it).
        public static func compressionLevel(_ codec: Codec) -> ClosedRange<Int> {
            codec == .zstd ? 1...22 : 1...65_537
        }
    }
}

extension PixelRect {
    /// Checks a capture region against `SessionOptions.Limits` (the screen edge is checked once the display is known).
    public func validate() throws(RecorderError) {
        let limits = SessionOptions.Limits.self
        guard limits.coordinate.contains(x), limits.coordinate.contains(y), limits.size.contains(width), limits.size.contains(height) else {
            throw .invalidConfiguration("--region needs X,Y in \(limits.coordinate.lowerBound) to \(limits.coordinate.upperBound) and W,H in \(limits.size.lowerBound) to \(limits.size.upperBound), got '\(self)'")
        }
    }
}

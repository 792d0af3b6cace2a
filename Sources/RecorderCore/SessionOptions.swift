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
                    throw .invalidConfiguration("--input must be auto, none or replay:PATH[,EVENTS_PATH], got '\(text)'")
                }
                let rest = text.dropFirst("replay:".count)
                let parts = rest.split(separator: ",", maxSplits: 1).map(String.init)
                guard let path = parts.first, !path.isEmpty else {
                    throw .invalidConfiguration("--input replay: needs a path, got '\(text)'")
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
    public var motionReference: Bool

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
                throw .invalidConfiguration("--meta must be KEY=VALUE, got '\(text)'")
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
        motionReference: Bool = false
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
    }

    /// Checks ranges that do not need a display; the message names the option.
    public func validate() throws(RecorderError) {
        guard (1...240).contains(fps) else { throw .invalidConfiguration("--fps must be 1 to 240, got \(fps)") }
        guard keyframeInterval >= 1 else { throw .invalidConfiguration("--keyframe-interval must be at least 1, got \(keyframeInterval)") }
        if motionReference && keyframeInterval == 1 {
            throw .invalidConfiguration("--motion-reference needs --keyframe-interval above 1 (with 1 every frame is stored whole)")
        }
        if let duration, !(duration > 0) { throw .invalidConfiguration("--duration must be positive, got \(duration)") }
        if region != nil && window != nil { throw .invalidConfiguration("--region and --window cannot be used together") }
        if let window, window.isEmpty { throw .invalidConfiguration("--window needs a non-empty TEXT") }
        guard stateRate > 0 && stateRate <= 60 else { throw .invalidConfiguration("state rate must be in (0, 60] Hz, got \(stateRate)") }
        if inputs.count > 1 && inputs.contains(.none) { throw .invalidConfiguration("--input none cannot be combined with other inputs") }
        var keys = Set<String>()
        for entry in meta where !keys.insert(entry.key).inserted {
            throw .invalidConfiguration("--meta key '\(entry.key)' given twice")
        }
    }
}

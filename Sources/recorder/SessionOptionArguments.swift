import ArgumentParser
import RecorderCore

/// The session options shared by `recorder record` and `recorder start` (see INTERFACE.md).
struct SessionOptionArguments: ParsableArguments {
    @Option(help: "X display (default: $DISPLAY).")
    var display: String?

    // Options with a default are optional here so `recorder start` can tell "given" from "default"
    // and leave the default to the daemon's config file.
    @Option(help: "Capture rate in frames per second (default 60).")
    var fps: Int?

    @Option(help: "Capture rectangle X,Y,W,H (default: the whole screen).")
    var region: String?

    @Option(help: "Capture the window whose title or WM_CLASS contains TEXT, following it.")
    var window: String?

    @Option(help: "Frame chunk codec: zstd, lz4 or none (default zstd).")
    var codec: String?

    @Option(name: .customLong("compression-level"), help: "zstd level (default 1).")
    var compressionLevel: Int?

    @Option(name: .customLong("keyframe-interval"), help: "1 = every stored frame is whole; K > 1 allows XOR residual frames (default \(SessionOptions.defaultKeyframeInterval)).")
    var keyframeInterval: Int?

    @Flag(name: .customLong("motion-reference"), inversion: .prefixedNo,
          help: "Let residual frames follow a panning or scrolling view: format_version 2 with /video/reference_shift (the default); --no-motion-reference writes format 1.")
    var motionReference: Bool?

    @Flag(name: .customLong("format-1"), help: "Write format_version 1 for readers that predate format 2 (the same as --no-motion-reference).")
    var formatOne = false

    /// The motion-reference choice of the command line: nil when neither flag was given.
    func motionReferenceChoice() throws(RecorderError) -> Bool? {
        if formatOne && motionReference == true {
            throw .invalidConfiguration("--format-1 and --motion-reference cannot be used together")
        }
        return formatOne ? false : motionReference
    }

    @Option(name: .customLong("input"), help: "auto, none or replay:PATH[,EVENTS_PATH]; repeatable.")
    var inputs: [String] = []

    @Option(name: .customLong("state-config"), help: "Probe file (TOML) for the state sampler.")
    var stateConfig: String?

    @Option(name: .customLong("state-rate"), help: "State samples per second (default 5).")
    var stateRate: Double?

    @Option(name: .customLong("meta"), help: "KEY=VALUE stored as an attribute of /meta; repeatable.")
    var meta: [String] = []

    @Flag(name: .customLong("redact-keys"), help: "Replace the codes of ordinary character keys.")
    var redactKeys = false

    @Option(name: .customLong("input-focus"), help: "Store input only while the focused window's title or WM_CLASS contains TEXT.")
    var inputFocus: String?

    @Option(name: .customLong("split-every"), help: "Start a new part file every DURATION of session time (90, 90s, 5m, 1.5h): NAME.part0001.h5, ... and NAME.manifest.json.")
    var splitEvery: String?

    @Option(name: .customLong("split-size"), help: "Start a new part file once a part reaches SIZE (500M, 2G, bytes without a suffix).")
    var splitSize: String?

    /// The split policy of the command line: nil when neither option was given.
    func splitPolicy() throws(RecorderError) -> SplitPolicy? {
        guard splitEvery != nil || splitSize != nil else { return nil }
        var policy = SplitPolicy()
        if let splitEvery {
            guard let seconds = SplitPolicy.parseDuration(splitEvery) else {
                throw .invalidConfiguration("--split-every must be a duration such as 90, 90s, 5m or 1.5h, got '\(TerminalText.escaped(splitEvery))'")
            }
            policy.everySeconds = seconds
        }
        if let splitSize {
            guard let bytes = ByteSize.parse(splitSize) else {
                throw .invalidConfiguration("--split-size must be a size such as 500M, 2G or a number of bytes, got '\(TerminalText.escaped(splitSize))'")
            }
            policy.sizeBytes = bytes
        }
        try policy.validate()
        return policy
    }

    /// Builds validated session options; the error names the option that is wrong.
    func makeOptions(output: String, duration: Double?) throws(RecorderError) -> SessionOptions {
        let codecName = codec ?? SessionOptions.Codec.zstd.rawValue
        guard let codecValue = SessionOptions.Codec(rawValue: codecName) else {
            throw .invalidConfiguration("--codec must be zstd, lz4 or none, got '\(codecName)'")
        }
        var sources: [SessionOptions.InputSource] = []
        for text in inputs { sources.append(try SessionOptions.InputSource(parsing: text)) }
        var entries: [SessionOptions.MetaEntry] = []
        for text in meta { entries.append(try SessionOptions.MetaEntry(parsing: text)) }
        let options = SessionOptions(
            output: output, display: display, fps: fps ?? 60, region: try region.map { text throws(RecorderError) in try PixelRect(parsing: text) },
            window: window, codec: codecValue, compressionLevel: compressionLevel ?? 1,
            keyframeInterval: keyframeInterval ?? SessionOptions.defaultKeyframeInterval,
            inputs: sources.isEmpty ? [.auto] : sources, stateConfig: stateConfig, meta: entries,
            redactKeys: redactKeys, inputFocus: inputFocus, duration: duration, stateRate: stateRate ?? 5,
            motionReference: try motionReferenceChoice(), split: try splitPolicy())
        try options.validate()
        return options
    }
}

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

    @Flag(name: .customLong("motion-reference"), help: "Let residual frames follow a panning or scrolling view (writes format_version 2: /video/reference_shift).")
    var motionReference = false

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
            motionReference: motionReference)
        try options.validate()
        return options
    }
}

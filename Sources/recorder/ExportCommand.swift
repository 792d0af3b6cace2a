import ArgumentParser

/// `recorder export FILE.h5 --to mp4|lossless|rerun|label-studio --output PATH`: a sealed session for annotation tools.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export a sealed session as H.264 mp4, lossless Matroska, a Rerun .rrd or a Label Studio folder.",
        discussion: """
            mp4: H.264 yuv420p at the session fps, one video frame per tick from tick 0 (a dropped tick \
            repeats the previous image). lossless: Matroska (H.264 RGB at qp 0) that decodes to exactly the stored RGB \
            images, pts from timestamp_ns. rerun: video, input and state on the session_time timeline. \
            label-studio: a folder with video.mp4, series.csv, config.xml and tasks.json. \
            Runs the Python package recorder_reader (needs python3, h5py, hdf5plugin, av; rerun-sdk for rerun).
            """
    )

    /// The export targets of the fixed interface.
    enum Target: String, ExpressibleByArgument, CaseIterable {
        case mp4, lossless, rerun
        case labelStudio = "label-studio"
    }

    /// Lossless video codecs (docs/ANNOTATION.md has the measurement behind the default).
    enum LosslessCodec: String, ExpressibleByArgument, CaseIterable {
        case ffv1, libx264rgb
    }

    @Argument(help: "The session file (sealed, or recovered).")
    var file: String

    @Option(help: "mp4, lossless, rerun or label-studio.")
    var to: Target

    @Option(help: "The file (or, for label-studio, the folder) to write; replaced only when the export succeeds.")
    var output: String

    @Option(help: "lossless: libx264rgb (qp 0, the default) or ffv1.")
    var losslessCodec: LosslessCodec = .libx264rgb

    @Option(name: .customLong("label"), help: "label-studio: a label to offer (repeatable).")
    var labels: [String] = []

    @Option(help: "label-studio: prefix of the video and series URLs in tasks.json (default: local-files storage).")
    var urlPrefix: String?

    @Flag(help: "Print the result as one JSON object.")
    var json = false

    func run() throws {
        var arguments = ["export", file, "--to", to.rawValue, "--output", output, "--lossless-codec", losslessCodec.rawValue]
        for label in labels { arguments += ["--label", label] }
        if let urlPrefix { arguments += ["--url-prefix", urlPrefix] }
        if json { arguments.append("--json") }
        PythonTool.exec(arguments)
    }
}

import ArgumentParser

/// `recorder labels import|export`: label sets stored as /annotations/NAME of a session file.
struct LabelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "labels",
        abstract: "Import labels into a session file (/annotations/NAME) or export a label set as JSON.",
        subcommands: [LabelsImportCommand.self, LabelsExportCommand.self]
    )
}

/// `recorder labels import FILE.h5 --set NAME LABELS`: a Label Studio JSON export or a CSV into /annotations/NAME.
struct LabelsImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Store LABELS as the set NAME (replacing it); the file is rewritten beside itself and renamed, never changed in place.",
        discussion: "LABELS: a Label Studio JSON export of a project from `recorder export --to label-studio`, or a CSV with the header t_start_s,t_end_s,label (seconds from tick 0)."
    )

    @Argument(help: "The session file (sealed, or recovered).")
    var file: String

    @Option(name: .customLong("set"), help: "Label set name: 1 to 64 of A-Z a-z 0-9 . _ -, not starting with a dot.")
    var setName: String

    @Argument(help: "Label Studio JSON export or CSV.")
    var labels: String

    func run() throws {
        PythonTool.exec(["labels", "import", file, "--set", setName, labels])
    }
}

/// `recorder labels export FILE.h5 --set NAME --output LABELS.json`.
struct LabelsExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write the label set NAME as JSON (times in CLOCK_MONOTONIC ns and in seconds from tick 0)."
    )

    @Argument(help: "The session file.")
    var file: String

    @Option(name: .customLong("set"), help: "Label set name.")
    var setName: String

    @Option(help: "The JSON file to write.")
    var output: String

    func run() throws {
        PythonTool.exec(["labels", "export", file, "--set", setName, "--output", output])
    }
}

import ArgumentParser

/// `recorder`: records sessions in the foreground, drives the daemon, repairs and inspects files.
@main
struct RecorderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recorder",
        abstract: "Record the screen, input and game state of a Linux session into one HDF5 file.",
        subcommands: [
            RecordCommand.self, StartCommand.self, StopCommand.self, StatusCommand.self, ListCommand.self,
            RecoverCommand.self, InspectCommand.self, ExportCommand.self, LabelsCommand.self,
        ]
    )
}

/// Exit codes that mean something to scripts.
enum ExitCodes {
    /// The session ended but not cleanly, or a file operation failed.
    static let failure: Int32 = 1
    /// Bad command line or option values.
    static let usage: Int32 = 64
    /// The daemon's socket is missing or refuses connections.
    static let daemonUnreachable: Int32 = 69
    /// `stop` or `status` when no session is running.
    static let notRunning: Int32 = 3
    /// A tool the command needs (python3, the reader package) is not installed (EX_UNAVAILABLE, like an unreachable daemon).
    static let unavailable: Int32 = 69
}

import ArgumentParser
import Foundation
import HDF5Store
import RecorderCore

/// `recorder recover`: makes a file left by a killed session readable in plain h5py.
struct RecoverCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recover",
        abstract: "Make a file left by a killed session readable in plain h5py (end_reason becomes 'recovered')."
    )

    @Argument(help: "The session file, or a part of a split session (its manifest is updated too).")
    var file: String

    @Flag(help: "Print the recovery report as JSON.")
    var json = false

    @Option(help: "Give up with exit code 75 after this many seconds (0: no limit).")
    var timeout: Double = 600

    func run() throws {
        CommandDeadline.arm(seconds: timeout, command: "recover", file: file)
        LibraryCrashGuard.install(command: "recover", file: file, changesFile: true)
        do {
            let report = try SessionRecovery.recover(path: file)
            // A part of a split session: the manifest beside it learns what the part now holds.
            if let manifest = try SessionRecovery.updateManifest(afterRecovering: file, report: report), !json {
                Console.error("recorder recover: updated \(TerminalText.escaped(manifest))")
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = json ? [.sortedKeys] : [.sortedKeys, .prettyPrinted]
            Console.out(String(decoding: try encoder.encode(report), as: UTF8.self), raw: true)
        } catch {
            Console.error("recorder recover: \(error)")
            throw ExitCode(ExitCodes.failure)
        }
    }
}

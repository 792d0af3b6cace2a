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

    @Argument(help: "The session file.")
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
            let encoder = JSONEncoder()
            encoder.outputFormatting = json ? [.sortedKeys] : [.sortedKeys, .prettyPrinted]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } catch {
            FileHandle.standardError.write(Data("recorder recover: \(error)\n".utf8))
            throw ExitCode(ExitCodes.failure)
        }
    }
}

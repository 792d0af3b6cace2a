import ArgumentParser
import Foundation
import HDF5Store
import RecorderCore

/// `recorder inspect`: what a session file holds, for people and scripts.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Summarise a session file: duration, frames, drops, codec, input devices, state fields, end reason."
    )

    @Argument(help: "The session file.")
    var file: String

    @Flag(help: "Print the summary as one JSON object.")
    var json = false

    @Option(help: "Give up with exit code 75 after this many seconds (0: no limit).")
    var timeout: Double = 60

    func run() throws {
        CommandDeadline.arm(seconds: timeout, command: "inspect", file: file)
        LibraryCrashGuard.install(command: "inspect", file: file, changesFile: false)
        do {
            let summary = try SessionInspector.inspect(path: file)
            let encoder = JSONEncoder()
            encoder.outputFormatting = json ? [.sortedKeys] : [.sortedKeys, .prettyPrinted]
            let text = String(decoding: try encoder.encode(summary), as: UTF8.self)
            print(json ? text : summary.humanDescription)
        } catch {
            FileHandle.standardError.write(Data("recorder inspect: \(error)\n".utf8))
            throw ExitCode(ExitCodes.failure)
        }
    }
}

import ArgumentParser
import Foundation
import HDF5Store
import RecorderCore

/// `recorder inspect`: what a session file holds, for people and scripts.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Summarise a session file (or a split session's manifest): duration, frames, drops, codec, input devices, state fields, end reason."
    )

    @Argument(help: "The session file, a part of a split session, or a split session's NAME.manifest.json.")
    var file: String

    @Flag(help: "Print the summary as one JSON object.")
    var json = false

    @Option(help: "Give up with exit code 75 after this many seconds (0: no limit).")
    var timeout: Double = 60

    func run() throws {
        CommandDeadline.arm(seconds: timeout, command: "inspect", file: file)
        LibraryCrashGuard.install(command: "inspect", file: file, changesFile: false)
        do {
            if file.hasSuffix(".manifest.json") {
                // A split session as a whole: the manifest, read as hostile input (bounded, checked).
                let manifest = try SessionManifest.read(from: file)
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                Console.out(json ? String(decoding: try encoder.encode(manifest), as: UTF8.self) : manifest.humanDescription, raw: json)
                return
            }
            let summary = try SessionInspector.inspect(path: file)
            let encoder = JSONEncoder()
            encoder.outputFormatting = json ? [.sortedKeys] : [.sortedKeys, .prettyPrinted]
            let text = String(decoding: try encoder.encode(summary), as: UTF8.self)
            Console.out(json ? text : summary.humanDescription, raw: json)
        } catch {
            Console.error("recorder inspect: \(error)")
            throw ExitCode(ExitCodes.failure)
        }
    }
}

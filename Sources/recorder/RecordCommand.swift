import ArgumentParser
import Foundation
import Logging
import RecorderCore
import Recording
import Synchronization

/// `recorder record`: one session in the foreground, until the duration, a signal, or the display going away.
struct RecordCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "record",
        abstract: "Record one session in the foreground.",
        discussion: """
            Ends at --duration, on SIGINT/SIGTERM, or when the display goes away. Exit status 0 when the
            session ended cleanly and the file is sealed, 1 when it ended on an error or a full disk, 64 on
            bad options.
            """
    )

    @Option(help: "The session file to create (never overwritten).")
    var output: String

    @Option(help: "Seconds to record (default: until stopped).")
    var duration: Double?

    @OptionGroup var session: SessionOptionArguments

    @OptionGroup(title: "Uploads and disk bounds") var fleet: FleetOptionArguments

    @Flag(help: "Print the end-of-session summary as one JSON object.")
    var json = false

    @Flag(help: "No live status line.")
    var quiet = false

    func run() throws {
        SignalWatcher.blockSignals()
        RecorderLogHandler.bootstrap()
        let logger = Logger(label: "recorder")
        let options: SessionOptions
        do {
            var made = try session.makeOptions(output: output, duration: duration)
            try fleet.apply(to: &made)
            options = made
        } catch {
            Console.error("recorder: \(error)")
            throw ExitCode(ExitCodes.usage)
        }

        let recording = RecordingSession(options: options, logger: logger)
        let signals = SignalWatcher()
        try signals.start { signal in
            if signal != SIGHUP { recording.stop(.signal, detail: "signal \(signal)") }
        }
        defer { signals.stop() }
        do {
            try recording.start()
        } catch {
            Console.error("recorder: cannot start: \(error)")
            throw ExitCode(error.isUsageError ? ExitCodes.usage : ExitCodes.failure)
        }

        let statusLine = (!quiet && isatty(2) == 1) ? try LiveStatusLine.start(recording) : nil
        let report = recording.wait()
        statusLine?.stop()

        if json {
            Console.out(report.jsonLine, raw: true)
        } else {
            Console.out(report.humanSummary)
        }
        let reason = EndReason(rawValue: report.endReason ?? "") ?? .error
        let endedWell = report.cleanShutdown == true && ![.error, .diskFull].contains(reason)
        if !endedWell { throw ExitCode(ExitCodes.failure) }
    }
}

extension RecorderError {
    /// Whether the user can fix this by changing the command line or a file it names.
    var isUsageError: Bool {
        if case .invalidConfiguration = self { return true }
        return false
    }
}

/// Redraws one status line on the terminal twice a second while a session records.
final class LiveStatusLine: Sendable {
    private let done = Atomic<Bool>(false)
    private let thread = Mutex<NamedThread?>(nil)

    static func start(_ recording: RecordingSession) throws -> LiveStatusLine {
        let line = LiveStatusLine()
        let spawned = try NamedThread.spawn(name: "rec-status") { [line] in
            var previous: Int64 = 0
            while !line.done.load(ordering: .acquiring) {
                let status = recording.status()
                let c = status.counters
                let text = String(
                    format: "\r\u{1B}[K%@ %6.1f s  %3lld fps  %lld frames  %lld dropped  %lld missed  %.1f MB  %lld events",
                    status.state, status.durationSeconds, c.framesLastSecond, c.framesWritten, c.framesDropped,
                    c.ticksMissed, Double(c.fileBytes) / 1e6, c.inputEventsWritten)
                Console.control(text)
                previous = c.framesWritten
                MonotonicClock.sleep(until: MonotonicClock.now() + 500_000_000)
            }
            _ = previous
            Console.control("\r\u{1B}[K")
        }
        line.thread.withLock { $0 = spawned }
        return line
    }

    func stop() {
        done.store(true, ordering: .releasing)
        thread.withLock { $0 }?.join(timeoutNanoseconds: 2_000_000_000)
    }
}

import DaemonControl
import Logging
import RecorderCore
import Recording

/// A `RecordingSession` as the daemon drives it.
final class RecordingSessionHost: SessionHost {
    let session: RecordingSession

    init(options: SessionOptions, logger: Logger) {
        session = RecordingSession(options: options, logger: logger)
    }

    func start() throws(RecorderError) { try session.start() }

    func stop(_ reason: EndReason, detail: String?) { session.stop(reason, detail: detail) }

    func waitForEnd() -> SessionProgress { Self.progress(session.wait()) }

    func progress() -> SessionProgress { Self.progress(session.status()) }

    func heartbeats() -> [String: Int64] { session.heartbeats() }

    var isStopping: Bool { session.isStopping }

    static func progress(_ report: SessionReport) -> SessionProgress {
        let counters = report.counters
        return SessionProgress(
            state: report.state, file: report.file, durationSeconds: report.durationSeconds,
            framesWritten: counters.framesWritten, framesDropped: counters.framesDropped, ticksMissed: counters.ticksMissed,
            fpsLastSecond: report.fpsLastSecond, inputEvents: counters.inputEventsWritten, inputDevices: counters.inputDevices,
            stateSamples: counters.stateSamplesWritten, bytesWritten: counters.fileBytes, freeDiskBytes: report.freeDiskBytes,
            endReason: report.endReason, cleanShutdown: report.cleanShutdown, error: report.error, report: try? JSONValue.encoding(report))
    }
}

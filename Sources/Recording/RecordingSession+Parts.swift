import Foundation
import HDF5Store
import RecorderCore

extension RecordingSession {
    /// Writes the empty manifest and starts `rec-parts`; the output's part and manifest names must be free.
    func startPartKeeper(split: SplitPolicy, configuration: WriterConfiguration) throws(RecorderError) -> PartKeeper {
        let manifest = SessionManifest(
            sessionID: UUID().uuidString.lowercased(), name: SessionManifest.sessionName(output: options.output),
            startedAtUTC: MonotonicClock.iso8601(utcNs: configuration.sessionStartNs &+ configuration.monoToUTCNs),
            monoToUTCNs: configuration.monoToUTCNs, split: split)
        let keeper = PartKeeper(manifest: manifest, path: SessionManifest.manifestPath(output: options.output),
                                extensions: partExtensions, logger: logger)
        try keeper.writeInitial()
        let thread = try NamedThread.spawn(name: PartKeeper.threadName) { keeper.run() }
        storePartKeeper(keeper, thread: thread)
        return keeper
    }

    /// The paths a split session would create that already exist (the manifest, the first parts).
    static func existingSplitPaths(output: String) -> [String] {
        let candidates = [SessionManifest.manifestPath(output: output)] + (1...3).map { SessionManifest.partPath(output: output, number: $0) }
        return candidates.filter { path in
            FileManager.default.fileExists(atPath: path) || (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) != nil
        }
    }
}

import Foundation
import HDF5Store
import RecorderCore

extension RecordingSession {
    /// Starts `rec-parts`; the output's part and manifest names must be free. The manifest is first
    /// written when part 1 opens, so a start that fails before the writer created it leaves no file.
    func startPartKeeper(split: SplitPolicy, configuration: WriterConfiguration) throws(RecorderError) -> PartKeeper {
        let manifest = SessionManifest(
            sessionID: UUID().uuidString.lowercased(), name: SessionManifest.sessionName(output: options.output),
            startedAtUTC: MonotonicClock.iso8601(utcNs: configuration.sessionStartNs &+ configuration.monoToUTCNs),
            monoToUTCNs: configuration.monoToUTCNs, split: split)
        let keeper = PartKeeper(manifest: manifest, path: SessionManifest.manifestPath(output: options.output),
                                extensions: partExtensions, logger: logger)
        let thread = try NamedThread.spawn(name: PartKeeper.threadName) { keeper.run() }
        storePartKeeper(keeper, thread: thread)
        return keeper
    }
}

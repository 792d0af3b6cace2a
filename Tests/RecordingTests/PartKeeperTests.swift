import Foundation
import Logging
import RecorderCore
import Recording
import Synchronization
import Testing
import TestSupport

/// The part keeper alone: the writer's part events become NAME.manifest.json, and extensions (the
/// seam an upload hook plugs into) run on `rec-parts` and may change the manifest.
@Suite struct PartKeeperTests {
    /// Records its calls and marks sealed parts as an uploader would.
    final class Probe: PartKeeper.Extension {
        let calls = Mutex<[String]>([])

        func partSealed(_ part: SessionManifest.Part, manifest: inout SessionManifest) -> Bool {
            calls.withLock { $0.append("sealed \(part.number) on \(NamedThread.currentName)") }
            manifest.parts[part.number - 1].upload = SessionManifest.Upload(state: "queued")
            return true
        }

        func poll(now: Int64, manifest: inout SessionManifest) -> Bool {
            calls.withLock { if $0.last != "poll" { $0.append("poll") } }
            return false
        }

        func drain(deadline: Int64, manifest: inout SessionManifest) -> Bool {
            calls.withLock { $0.append("drain on \(NamedThread.currentName)") }
            for index in manifest.parts.indices where manifest.parts[index].upload != nil {
                manifest.parts[index].upload?.state = "uploaded"
            }
            return true
        }
    }

    @Test func partEventsBecomeTheManifestAndExtensionsRunOnTheKeepersThread() throws {
        let directory = try TestPaths.temporaryDirectory("keeper")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("k.manifest.json").path
        let probe = Probe()
        let keeper = PartKeeper(
            manifest: SessionManifest(sessionID: UUID().uuidString.lowercased(), name: "k", startedAtUTC: "2026-11-29T00:00:00.000Z",
                                      monoToUTCNs: 0, split: SplitPolicy(everySeconds: 5)),
            path: path, extensions: [probe], logger: Logger(label: "test"))
        let thread = try NamedThread.spawn(name: PartKeeper.threadName) { keeper.run() }
        let first = SessionManifest.Part(number: 1, file: "k.part0001.h5", state: "recording", previousPartLastTick: -1)
        #expect(keeper.mailbox.trySend(.opened(first)))
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline && (try? SessionManifest.read(from: path))?.parts.count != 1 { Thread.sleep(forTimeInterval: 0.02) }
        #expect(try SessionManifest.read(from: path).parts == [first], "the manifest lists part 1 once it opened")

        var sealed = first
        sealed.state = "sealed"
        sealed.firstTick = 0
        sealed.lastTick = 299
        sealed.frames = 300
        keeper.mailbox.trySend(.sealed(sealed))
        keeper.mailbox.trySend(.opened(SessionManifest.Part(number: 2, file: "k.part0002.h5", state: "recording", previousPartLastTick: 299)))
        keeper.mailbox.trySend(.ended(reason: .duration, detail: nil, cleanShutdown: true))
        #expect(thread.join(timeoutNanoseconds: 30_000_000_000), "rec-parts returns once the session ended and its extensions drained")

        let manifest = try SessionManifest.read(from: path)
        #expect(manifest.state == "ended" && manifest.endReason == "duration")
        #expect(manifest.parts.map(\.state) == ["sealed", "recording"])
        #expect(manifest.parts[0].lastTick == 299 && manifest.parts[0].frames == 300)
        #expect(manifest.parts[0].upload?.state == "uploaded", "what the extension changed is written out")
        #expect(keeper.manifest == manifest)
        let calls = probe.calls.withLock { $0 }
        #expect(calls.contains("sealed 1 on \(PartKeeper.threadName)"), "\(calls)")
        #expect(calls.last == "drain on \(PartKeeper.threadName)", "\(calls)")
    }

    @Test func aKeeperStoppedBeforeAnyPartWritesNoManifest() throws {
        let directory = try TestPaths.temporaryDirectory("keeper")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("never.manifest.json").path
        let keeper = PartKeeper(
            manifest: SessionManifest(sessionID: "x", name: "never", startedAtUTC: "", monoToUTCNs: 0, split: SplitPolicy(everySeconds: 5)),
            path: path, logger: Logger(label: "test"))
        let thread = try NamedThread.spawn(name: PartKeeper.threadName) { keeper.run() }
        keeper.requestStop()
        #expect(thread.join(timeoutNanoseconds: 30_000_000_000))
        #expect(!FileManager.default.fileExists(atPath: path), "a start that failed before part 1 leaves no manifest")
    }
}

import Foundation
@testable import HDF5Store
import RecorderCore
import Synchronization
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// A local user who can write the output directory swaps paths under the writer; a second process
/// runs `recover` on a file being written. Real files, real HDF5, a real racing thread.
@Suite(.serialized)
struct HostileFileTests {
    /// A small HDF5 file that is not ours: what a symlink swapped in at the session's path points to.
    private func victim(in directory: URL) throws -> (path: String, digest: Data) {
        let path = directory.appendingPathComponent("victim.h5").path
        let made = try runPython("import h5py, sys\nwith h5py.File(sys.argv[1], 'w') as f:\n    f['keep'] = [1, 2, 3]", arguments: [path])
        #expect(made.status == 0, "\(made.stderr)")
        return (path, try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    @Test("seal reopens the file the writer created, not what a symlink swapped in at its path points to")
    func sealIgnoresASwappedSymlink() throws {
        let directory = try TestPaths.temporaryDirectory("hostile-seal")
        let target = try victim(in: directory)
        let path = directory.appendingPathComponent("session.h5").path
        let file = try SessionFile(configuration: WriterHarness.configuration(path: path, width: 16, height: 8))
        try file.close()
        let moved = directory.appendingPathComponent("moved.h5").path
        #expect(rename(path, moved) == 0)
        #expect(symlink(target.path, path) == 0)
        try SessionFile.seal(file.pinned, endReason: .stopped, detail: nil, cleanShutdown: true, summaryJSON: "{}")
        #expect(try Data(contentsOf: URL(fileURLWithPath: target.path)) == target.digest, "the victim was written through the symlink")
        let sealed = try SessionInspector.inspect(path: moved)
        #expect(sealed.endReason == "stopped" && sealed.cleanShutdown)
    }

    @Test("creating sessions while a racer swaps a symlink in at the path never writes through it")
    func creationRaceNeverClobbers() throws {
        let directory = try TestPaths.temporaryDirectory("hostile-create")
        let target = try victim(in: directory)
        let path = directory.appendingPathComponent("session.h5").path
        let stop = Atomic<Bool>(false)
        let paused = Atomic<Bool>(false)
        let swaps = Atomic<Int>(0)
        // The racer replaces whatever regular file appears at `path` by a symlink to the victim.
        let racer = try NamedThread.spawn(name: "test-racer") {
            while !stop.load(ordering: .relaxed) {
                if paused.load(ordering: .relaxed) { continue }
                var status = stat()
                if lstat(path, &status) == 0, status.st_mode & S_IFMT == S_IFREG, unlink(path) == 0, symlink(target.path, path) == 0 {
                    swaps.add(1, ordering: .relaxed)
                }
            }
        }
        defer {
            stop.store(true, ordering: .relaxed)
            _ = racer.join(timeoutNanoseconds: 5_000_000_000)
        }
        // Which side wins each round is the scheduler's choice: on a loaded machine the racer may win
        // every round or none. So every eighth round runs with the racer paused (a creation succeeds),
        // and rounds go on past 40 until the racer has swapped at least once.
        var created = 0
        var rounds = 0
        let deadline = Date().addingTimeInterval(120)
        while rounds < 40 || (swaps.load(ordering: .relaxed) == 0 || created == 0) && Date() < deadline {
            paused.store(rounds % 8 == 7, ordering: .relaxed)
            rounds += 1
            unlink(path)
            guard let file = try? SessionFile(configuration: WriterHarness.configuration(path: path, width: 16, height: 8)) else { continue }
            created += 1
            file.closeQuietly()
        }
        stop.store(true, ordering: .relaxed)
        #expect(created > 0 && swaps.load(ordering: .relaxed) > 0, "the race never happened (created \(created), swaps \(swaps.load(ordering: .relaxed)), rounds \(rounds))")
        #expect(try Data(contentsOf: URL(fileURLWithPath: target.path)) == target.digest, "a session was written through the symlink")
    }

    @Test("recover refuses a file whose writer is alive (it holds the lock) and leaves it unchanged; after the writer, it recovers")
    func recoverRefusesALiveFile() throws {
        let directory = try TestPaths.temporaryDirectory("hostile-live")
        let path = directory.appendingPathComponent("live.h5").path
        var file: SessionFile? = try SessionFile(configuration: WriterHarness.configuration(path: path, width: 16, height: 8))
        try file?.flush()
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(SessionRecovery.isLive(path: path))
        #expect(throws: RecorderError.self) { try SessionRecovery.recover(path: path) }
        do {
            _ = try SessionRecovery.recover(path: path)
        } catch {
            #expect("\(error)".contains("being written by a running recorder"))
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
        file?.closeQuietly()
        file = nil
        #expect(!SessionRecovery.isLive(path: path))
        let report = try SessionRecovery.recover(path: path)
        #expect(!report.wasClean && report.endReason == "recovered")
    }
}

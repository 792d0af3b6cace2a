import Foundation
import RecorderCore
import Recording
import Testing
import TestSupport

/// The upload scheduler on its own: real /bin/sh hooks, fabricated part files.
@Suite(.serialized)
final class UploadSchedulerTests {
    let directory: URL
    let scripts: HookScripts

    init() throws {
        directory = try TestPaths.temporaryDirectory("uploads")
        scripts = HookScripts(directory: directory)
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    private func session(_ name: String = "sess") throws -> UploadScheduler.Session {
        let folder = directory.appendingPathComponent("out-\(name)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for number in 1...3 {
            try Data("part \(number)".utf8).write(to: URL(fileURLWithPath: folder + "/" + SessionManifest.partFileName(session: name, number: number)))
        }
        return UploadScheduler.Session(folder: folder, name: name, sessionID: "1234-abcd")
    }

    @Test func aHookThatSucceedsMarksThePartUploadedWithThePlaceholdersFilledIn() throws {
        let remote = directory.appendingPathComponent("remote").path
        try FileManager.default.createDirectory(atPath: remote, withIntermediateDirectories: true)
        let hook = UploadHook(command: [try scripts.copying(to: remote), "{path}", "{file}", "{part}", "{session}", "{session_id}", "{manifest}", "x{part}y"])
        let session = try session()
        let scheduler = UploadScheduler(hook: hook, session: session, logger: testLogger)
        #expect(scheduler.submit(sealedPart(1, session: "sess")).upload.state == "queued")
        #expect(scheduler.submit(sealedPart(2, session: "sess")).upload.state == "queued")
        let changes = pollUntil(scheduler) { $0.filter { $0.upload.state == "uploaded" }.count == 2 }
        let uploaded = changes.filter { $0.upload.state == "uploaded" }
        #expect(uploaded.map(\.part).sorted() == [1, 2])
        #expect(uploaded.allSatisfy { $0.upload.attempts == 1 && $0.upload.finishedAtUTC != nil && $0.upload.lastError == nil })
        #expect(changes.contains { $0.part == 1 && $0.upload.state == "running" })
        let first = try String(contentsOfFile: remote + "/args-1", encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(first == [session.folder + "/sess.part0001.h5", "sess.part0001.h5", "1", "sess", "1234-abcd",
                          session.folder + "/sess.manifest.json", "x1y"])
        #expect(FileManager.default.fileExists(atPath: remote + "/sess.part0002.h5"))
        #expect(scheduler.pendingCount == 0)
    }

    @Test func aHookThatFailsIsRetriedWithBackoffAndEndsFailedWithItsStderr() throws {
        let counter = directory.appendingPathComponent("count").path
        let failing = try scripts.script("fail.sh", """
            echo attempt >> "\(counter)"
            echo "lots of noise on stdout"
            echo "remote: permission denied for $1" >&2
            exit 3
            """)
        let hook = UploadHook(command: [failing, "{file}"], attempts: 3, backoffSeconds: 0.05)
        let scheduler = UploadScheduler(hook: hook, session: try session(), logger: testLogger)
        _ = scheduler.submit(sealedPart(1, session: "sess"))
        let changes = pollUntil(scheduler) { $0.contains { $0.upload.state == "failed" } }
        let states = changes.map(\.upload.state)
        #expect(states.filter { $0 == "running" }.count == 3)
        #expect(states.filter { $0 == "retrying" }.count == 2)
        let final = try #require(changes.last)
        #expect(final.upload.state == "failed")
        #expect(final.upload.attempts == 3)
        #expect(final.upload.lastError?.contains("exit status 3") == true)
        #expect(final.upload.lastError?.contains("permission denied for sess.part0001.h5") == true)
        #expect(try String(contentsOfFile: counter, encoding: .utf8).split(separator: "\n").count == 3)
    }

    @Test func aHookThatHangsAndIgnoresSIGTERMIsKilledAtTheTimeoutWithItsChildren() throws {
        let pids = directory.appendingPathComponent("pids").path
        let hanging = try scripts.script("hang.sh", """
            trap '' TERM
            sleep 1000 &
            echo "$$ $!" > "\(pids)"
            wait
            """)
        let hook = UploadHook(command: [hanging], timeoutSeconds: 0.5, attempts: 1)
        let scheduler = UploadScheduler(hook: hook, session: try session(), logger: testLogger)
        _ = scheduler.submit(sealedPart(1, session: "sess"))
        let changes = pollUntil(scheduler) { $0.contains { $0.upload.state == "failed" } }
        let final = try #require(changes.last)
        #expect(final.upload.state == "failed")
        #expect(final.upload.lastError?.contains("timed out") == true)
        let numbers = try String(contentsOfFile: pids, encoding: .utf8).split(separator: " ").compactMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        #expect(numbers.count == 2)
        // The script's background sleep was in its process group, so the SIGKILL reached it too.
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline && numbers.contains(where: { kill($0, 0) == 0 && !Self.isZombie($0) }) { usleep(50_000) }
        for pid in numbers { #expect(kill(pid, 0) != 0 || Self.isZombie(pid), "pid \(pid) still runs") }
    }

    @Test func aFullQueueSkipsThePartAndDrainLeavesTheRestNotUploaded() throws {
        let hanging = try scripts.script("sleep.sh", "exec sleep 1000")
        let hook = UploadHook(command: [hanging], timeoutSeconds: 3600, attempts: 2)
        let scheduler = UploadScheduler(hook: hook, session: try session(), logger: testLogger)
        for number in 1...UploadHook.queueCapacity {
            #expect(scheduler.submit(sealedPart(number, session: "sess")).upload.state == "queued")
        }
        let skipped = scheduler.submit(sealedPart(UploadHook.queueCapacity + 1, session: "sess"))
        #expect(skipped.upload.state == "skipped")
        #expect(skipped.upload.lastError?.contains("queue full") == true)
        _ = pollUntil(scheduler) { _ in scheduler.runningCount == 1 }
        let drained = scheduler.drain(deadline: MonotonicClock.now() + 200_000_000)
        #expect(drained.count == UploadHook.queueCapacity)
        let running = try #require(drained.first { $0.part == 1 })
        #expect(running.upload.state == "failed")
        #expect(running.upload.lastError?.contains("session ended") == true)
        let waiting = try #require(drained.first { $0.part == 2 })
        #expect(waiting.upload.state == "queued")
        #expect(waiting.upload.lastError?.contains("not uploaded") == true)
        #expect(scheduler.pendingCount == 0)
    }

    @Test func aProgramThatCannotBeStartedCountsAsAFailedAttempt() throws {
        let hook = UploadHook(command: ["/nonexistent/uploader", "{path}"], attempts: 2, backoffSeconds: 0)
        let scheduler = UploadScheduler(hook: hook, session: try session(), logger: testLogger)
        _ = scheduler.submit(sealedPart(1, session: "sess"))
        let changes = pollUntil(scheduler) { $0.contains { $0.upload.state == "failed" } }
        let final = try #require(changes.last)
        #expect(final.upload.attempts == 2)
        #expect(final.upload.lastError?.contains("cannot run") == true)
    }

    /// True when `pid` is a zombie whose parent has not reaped it yet (an orphan init will reap).
    static func isZombie(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        return stat[stat.index(close, offsetBy: 2)...].hasPrefix("Z")
    }
}

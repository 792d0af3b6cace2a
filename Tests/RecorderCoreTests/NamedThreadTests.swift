import Testing
import Synchronization
@testable import RecorderCore

@Suite struct NamedThreadTests {
    @Test func threadCarriesItsName() throws {
        let seen = Mutex<String>("")
        let thread = try NamedThread.spawn(name: "recorder-capture-long-name") {
            seen.withLock { $0 = NamedThread.currentName }
        }
        #expect(thread.join(timeoutNanoseconds: 10_000_000_000))
        #expect(seen.withLock { $0 } == "recorder-captur", "Linux keeps 15 bytes of a thread name")
        #expect(thread.name == "recorder-captur")
    }

    @Test func joinTimesOutOnAStuckThread() throws {
        let release = Atomic<Bool>(false)
        let thread = try NamedThread.spawn(name: "stuck") {
            while !release.load(ordering: .relaxed) { MonotonicClock.sleep(until: MonotonicClock.now() + 1_000_000) }
        }
        let start = MonotonicClock.now()
        #expect(thread.join(timeoutNanoseconds: 100_000_000) == false)
        #expect(MonotonicClock.now() - start >= 100_000_000)
        release.store(true, ordering: .relaxed)
    }

    @Test func barrierWaitsForEveryWorker() throws {
        let barrier = StartupBarrier(workers: ["capture", "input", "state"])
        var threads: [NamedThread] = []
        for (index, name) in ["capture", "input", "state"].enumerated() {
            threads.append(try NamedThread.spawn(name: name) {
                MonotonicClock.sleep(until: MonotonicClock.now() + Int64(index) * 30_000_000)
                barrier.arrive(name)
            })
        }
        #expect(barrier.wait(timeoutNanoseconds: 5_000_000_000) == .ready)
        for thread in threads { #expect(thread.join(timeoutNanoseconds: 10_000_000_000)) }
    }

    @Test func barrierReportsFailureAndTimeout() throws {
        let failing = StartupBarrier(workers: ["capture", "state"])
        failing.fail("state", message: "cannot open display :99")
        #expect(failing.wait(timeoutNanoseconds: 1_000_000_000) == .failed(worker: "state", message: "cannot open display :99"))

        let late = StartupBarrier(workers: ["capture", "input"])
        late.arrive("capture")
        #expect(late.wait(timeoutNanoseconds: 50_000_000) == .timedOut(waitingFor: ["input"]))
    }

    @Test func mailboxIsBounded() {
        let mailbox = BoundedMailbox<String>(capacity: 2)
        #expect(mailbox.trySend("a"))
        #expect(mailbox.trySend("b"))
        #expect(mailbox.trySend("c") == false)
        #expect(mailbox.drain() == ["a", "b"])
        #expect(mailbox.drain().isEmpty)
    }
}

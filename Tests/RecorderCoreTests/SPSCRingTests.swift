import Testing
import Synchronization
@testable import RecorderCore

@Suite struct SPSCRingTests {
    @Test func capacityRoundsUpToPowerOfTwo() {
        #expect(SPSCRing<Int>(capacity: 5).capacity == 8)
        #expect(SPSCRing<Int>(capacity: 8).capacity == 8)
        #expect(SPSCRing<Int>(capacity: 1).capacity == 1)
    }

    @Test func fullAndEmptyEdges() {
        let ring = SPSCRing<Int>(capacity: 4)
        #expect(ring.tryPop() == nil)
        for i in 0..<4 { #expect(ring.tryPush(i)) }
        #expect(ring.tryPush(99) == false, "a full ring refuses instead of blocking")
        #expect(ring.count == 4)
        #expect(ring.tryPop() == 0)
        #expect(ring.tryPush(4))
        #expect((1...4).map { _ in ring.tryPop() } == [1, 2, 3, 4])
        #expect(ring.tryPop() == nil)
        #expect(ring.isEmpty)
    }

    @Test func popTimesOutWhenEmpty() {
        let ring = SPSCRing<Int>(capacity: 2)
        let start = MonotonicClock.now()
        #expect(ring.pop(timeoutNanoseconds: 50_000_000) == nil)
        let waited = MonotonicClock.now() - start
        #expect(waited >= 50_000_000)
        #expect(waited < 2_000_000_000)
    }

    /// Millions of items through a small ring on two real threads: order kept, nothing lost or duplicated.
    @Test func stressKeepsOrderAndLosesNothing() throws {
        let ring = SPSCRing<UInt64>(capacity: 1024)
        let total: UInt64 = 4_000_000
        let refusals = Atomic<Int>(0)
        let producer = try NamedThread.spawn(name: "test-producer") {
            var next: UInt64 = 0
            while next < total {
                if ring.tryPush(next) { next += 1 } else { refusals.add(1, ordering: .relaxed) }
            }
        }
        var expected: UInt64 = 0
        var outOfOrder = 0
        while expected < total {
            guard let value = ring.pop(timeoutNanoseconds: 5_000_000_000) else { break }
            if value != expected { outOfOrder += 1 }
            expected = value + 1
        }
        #expect(producer.join(timeoutNanoseconds: 10_000_000_000))
        #expect(outOfOrder == 0)
        #expect(expected == total)
        #expect(ring.tryPop() == nil)
    }

    /// A consumer blocked in pop wakes promptly when the producer pushes from another thread.
    @Test func blockedConsumerWakesOnPush() throws {
        let ring = SPSCRing<Int>(capacity: 8)
        let pushedAt = Atomic<Int64>(0)
        let producer = try NamedThread.spawn(name: "test-late-push") {
            MonotonicClock.sleep(until: MonotonicClock.now() + 100_000_000)
            pushedAt.store(MonotonicClock.now(), ordering: .releasing)
            ring.tryPush(7)
        }
        let value = ring.pop(timeoutNanoseconds: 5_000_000_000)
        let latency = MonotonicClock.now() - pushedAt.load(ordering: .acquiring)
        #expect(value == 7)
        #expect(latency < 1_000_000_000)
        producer.join(timeoutNanoseconds: 1_000_000_000)
    }

    /// Shutdown while a consumer waits: a stop request wakes it through the shared doorbell.
    @Test func shutdownWakesWaitingConsumer() throws {
        let control = SessionControl()
        let ring = SPSCRing<Int>(capacity: 8, doorbell: control.bell)
        let consumerResult = Atomic<Int>(-1)
        let consumer = try NamedThread.spawn(name: "test-consumer") {
            while !control.shouldStop {
                if let value = ring.pop(timeoutNanoseconds: 30_000_000_000, interruptedBy: control) {
                    consumerResult.store(value, ordering: .relaxed)
                }
            }
            consumerResult.store(-2, ordering: .relaxed)
        }
        MonotonicClock.sleep(until: MonotonicClock.now() + 50_000_000)
        let start = MonotonicClock.now()
        control.requestStop(.stopped)
        // Woken by the stop, not by its 30 s timeout (10 s leaves a loaded machine room).
        #expect(consumer.join(timeoutNanoseconds: 10_000_000_000))
        #expect(MonotonicClock.now() - start < 10_000_000_000)
        #expect(consumerResult.load(ordering: .relaxed) == -2)
    }
}

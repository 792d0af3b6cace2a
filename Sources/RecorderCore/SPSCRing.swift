import Synchronization

/// A bounded single-producer single-consumer ring of plain values.
///
/// Capacity is a power of two; slots are allocated once; head and tail are free-running
/// counters published with release and read with acquire ordering, so a push or pop is two
/// atomic operations and a copy, never an allocation. `tryPush` never blocks: a full ring
/// returns false and the producer counts the drop.
public final class SPSCRing<Element: BitwiseCopyable>: @unchecked Sendable {
    // @unchecked Sendable: exactly one producer thread writes slots at `tail` and publishes with a
    // release store; exactly one consumer reads slots below the acquired `tail` and frees them with
    // a release store of `head`. No slot is ever read and written at the same time.
    private let slots: UnsafeMutablePointer<Element>
    private let mask: Int
    /// Index of the next slot to pop; written only by the consumer.
    private let head = Atomic<Int>(0)
    /// Index of the next slot to push; written only by the producer.
    private let tail = Atomic<Int>(0)
    /// Rung after every push so a consumer blocked in `pop(timeoutNanoseconds:)` wakes.
    public let doorbell: Doorbell

    public let capacity: Int

    /// Creates a ring holding up to `capacity` elements (rounded up to a power of two).
    /// - Parameter doorbell: shared with other rings when one consumer drains several.
    public init(capacity: Int, doorbell: Doorbell = Doorbell()) {
        precondition(capacity > 0, "ring capacity must be positive")
        var size = 1
        while size < capacity { size <<= 1 }
        self.capacity = size
        self.mask = size - 1
        self.slots = .allocate(capacity: size)
        self.doorbell = doorbell
    }

    deinit { slots.deallocate() }

    /// Number of elements waiting (exact for either side's own view, approximate for others).
    public var count: Int { tail.load(ordering: .acquiring) &- head.load(ordering: .acquiring) }

    public var isEmpty: Bool { count == 0 }

    /// Producer side: appends `element` unless the ring is full. Never blocks.
    /// - Returns: false when the ring was full and nothing was stored.
    @discardableResult
    @inline(__always)
    public func tryPush(_ element: Element) -> Bool {
        guard tryPushQuietly(element) else { return false }
        doorbell.ring()
        return true
    }

    /// Producer side: appends without ringing the doorbell (ring once after a batch).
    @inline(__always)
    public func tryPushQuietly(_ element: Element) -> Bool {
        let t = tail.load(ordering: .relaxed)
        if t &- head.load(ordering: .acquiring) >= capacity { return false }
        (slots + (t & mask)).initialize(to: element)
        tail.store(t &+ 1, ordering: .releasing)
        return true
    }

    /// Consumer side: removes the oldest element, or nil when empty. Never blocks.
    @inline(__always)
    public func tryPop() -> Element? {
        let h = head.load(ordering: .relaxed)
        if tail.load(ordering: .acquiring) == h { return nil }
        let element = (slots + (h & mask)).move()
        head.store(h &+ 1, ordering: .releasing)
        return element
    }

    /// Consumer side: waits up to `timeoutNanoseconds` for an element.
    /// - Parameter control: when given, a stop request ends the wait early (its doorbell must be this ring's).
    /// - Returns: nil when the timeout passed, or the session is stopping, with the ring still empty.
    public func pop(timeoutNanoseconds: Int64, interruptedBy control: SessionControl? = nil) -> Element? {
        let deadline = MonotonicClock.now() &+ timeoutNanoseconds
        while true {
            let seen = doorbell.sequence
            if let element = tryPop() { return element }
            if let control, control.shouldStop { return nil }
            let left = deadline - MonotonicClock.now()
            if left <= 0 { return nil }
            doorbell.wait(seen: seen, timeoutNanoseconds: left)
        }
    }
}

import CLinuxShim

/// A futex-backed wake-up signal: producers ring without ever blocking, a consumer sleeps on it with a timeout.
///
/// Used by the writer to wait on several rings at once: every producer rings the same doorbell.
public final class Doorbell: @unchecked Sendable {
    // @unchecked Sendable: the futex word is only touched through the C shim's atomic operations.
    private let word: UnsafeMutablePointer<UInt32>

    public init() {
        word = .allocate(capacity: 1)
        word.initialize(to: 0)
    }

    deinit { word.deallocate() }

    /// The current ring count; pass it to `wait(seen:timeoutNanoseconds:)` after checking for work.
    @inline(__always)
    public var sequence: UInt32 { CLinuxShim_futex_load(word) }

    /// Wakes every waiter. Never blocks; costs one syscall.
    @inline(__always)
    public func ring() { CLinuxShim_futex_increment_and_wake(word) }

    /// Sleeps until the doorbell rings after `seen` was read, or the timeout passes.
    /// - Returns: false when the timeout passed without a ring.
    @discardableResult
    public func wait(seen: UInt32, timeoutNanoseconds: Int64) -> Bool {
        if CLinuxShim_futex_load(word) != seen { return true }
        return CLinuxShim_futex_wait(word, seen, timeoutNanoseconds)
    }
}

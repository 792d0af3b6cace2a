import Synchronization

/// The latest focused-window snapshot, published by the state sampler for the input thread's `--input-focus` filter.
///
/// Readers get a copy; nobody shares the sampler's X connection. (`--window` capture finds its window on its
/// own connection.)
public final class FocusedWindow: Sendable {
    private let current = Mutex<WindowSnapshot?>(nil)

    public init() {}

    /// Replaces the snapshot (state thread).
    public func publish(_ snapshot: WindowSnapshot?) {
        current.withLock { $0 = snapshot }
    }

    /// The latest snapshot, or nil when nothing has focus or the sampler has not run yet.
    public var snapshot: WindowSnapshot? { current.withLock { $0 } }
}

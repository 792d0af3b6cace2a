#if canImport(Glibc)
import Glibc
#endif
import RecorderCore
import Synchronization

/// Turns SIGINT, SIGTERM and SIGHUP into calls on a dedicated thread, so no work happens in a signal handler.
///
/// `blockSignals()` must run on the main thread before any other thread starts: threads inherit the
/// mask, so the signals stay pending until the watcher thread takes them with sigtimedwait.
public final class SignalWatcher: Sendable {
    private let stopFlag = Atomic<Bool>(false)
    private let thread = Mutex<NamedThread?>(nil)

    public static let watchedSignals: [Int32] = [SIGINT, SIGTERM, SIGHUP]

    /// Blocks the watched signals in the calling thread and every thread it starts afterwards, and
    /// ignores SIGPIPE: a reader that goes away (`recorder record ... | head`, a closed journal pipe)
    /// then gives EPIPE to that one write instead of killing the process before the file is sealed.
    public static func blockSignals() {
        signal(SIGPIPE, SIG_IGN)
        var set = sigset_t()
        sigemptyset(&set)
        for signal in watchedSignals { sigaddset(&set, signal) }
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    public init() {}

    /// Starts the watcher; `handler` runs on the watcher thread for each signal received.
    public func start(_ handler: @escaping @Sendable (Int32) -> Void) throws(RecorderError) {
        let spawned = try NamedThread.spawn(name: "rec-signals") { [self] in
            var set = sigset_t()
            sigemptyset(&set)
            for signal in SignalWatcher.watchedSignals { sigaddset(&set, signal) }
            var timeout = timespec(tv_sec: 0, tv_nsec: 200_000_000)
            while !self.stopFlag.load(ordering: .acquiring) {
                let signal = sigtimedwait(&set, nil, &timeout)
                if signal > 0 { handler(signal) }
            }
        }
        thread.withLock { $0 = spawned }
    }

    /// Stops the watcher thread (within 200 ms).
    public func stop() {
        stopFlag.store(true, ordering: .releasing)
        thread.withLock { $0 }?.join(timeoutNanoseconds: 1_000_000_000)
    }
}

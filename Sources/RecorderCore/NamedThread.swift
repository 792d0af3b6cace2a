#if canImport(Glibc)
import Glibc
#endif
import CLinuxShim
import Synchronization

/// A dedicated OS thread with a name (shown in `top -H`, logs and core dumps) and a join with a timeout.
///
/// The only place in the recorder that creates threads: capture, input, state and writer all start here.
public final class NamedThread: Sendable {
    /// The thread's name, at most 15 bytes as Linux keeps it.
    public let name: String
    private let finished = Atomic<Bool>(false)
    private let finishedBell = Doorbell()
    private let handle = Mutex<pthread_t?>(nil)

    private init(name: String) {
        self.name = String(name.utf8.prefix(15))!
    }

    /// Starts `body` on a new named thread.
    /// - Throws: `RecorderError.threadStart` when the system refuses a thread.
    public static func spawn(name: String, body: @escaping @Sendable () -> Void) throws(RecorderError) -> NamedThread {
        let thread = NamedThread(name: name)
        let context = Unmanaged.passRetained(ThreadContext(thread: thread, body: body)).toOpaque()
        var pthread = pthread_t()
        let result = pthread_create(&pthread, nil, { raw in
            let context = Unmanaged<ThreadContext>.fromOpaque(raw!).takeRetainedValue()
            CLinuxShim_set_thread_name(context.thread.name)
            context.body()
            context.thread.finished.store(true, ordering: .releasing)
            context.thread.finishedBell.ring()
            return nil
        }, context)
        guard result == 0 else {
            Unmanaged<ThreadContext>.fromOpaque(context).release()
            throw RecorderError.threadStart(name: name, errno: result)
        }
        thread.handle.withLock { $0 = pthread }
        return thread
    }

    /// True once the body has returned.
    public var hasFinished: Bool { finished.load(ordering: .acquiring) }

    /// Waits up to `timeoutNanoseconds` for the body to return, then reaps the thread.
    /// - Returns: false when the thread is still running; it is left detached and the caller logs its name.
    @discardableResult
    public func join(timeoutNanoseconds: Int64) -> Bool {
        let deadline = MonotonicClock.now() + timeoutNanoseconds
        while !hasFinished {
            let seen = finishedBell.sequence
            if hasFinished { break }
            let left = deadline - MonotonicClock.now()
            if left <= 0 {
                if let pthread = handle.withLock({ h -> pthread_t? in defer { h = nil }; return h }) {
                    pthread_detach(pthread)
                }
                return false
            }
            finishedBell.wait(seen: seen, timeoutNanoseconds: left)
        }
        if let pthread = handle.withLock({ h -> pthread_t? in defer { h = nil }; return h }) {
            pthread_join(pthread, nil)
        }
        return true
    }

    /// The calling thread's name as the kernel has it.
    public static var currentName: String {
        var buffer = [CChar](repeating: 0, count: 16)
        CLinuxShim_get_thread_name(&buffer, 16)
        return String(cBuffer: buffer)
    }
}

/// Carries the body across pthread_create's void pointer.
private final class ThreadContext: Sendable {
    let thread: NamedThread
    let body: @Sendable () -> Void
    init(thread: NamedThread, body: @escaping @Sendable () -> Void) {
        self.thread = thread
        self.body = body
    }
}

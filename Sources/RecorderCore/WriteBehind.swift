import CLinuxShim
#if canImport(Glibc)
import Glibc
#endif
import Logging
import Synchronization

/// Keeps a growing file's written bytes out of the page cache, on its own thread (`rec-writeback`):
/// writeback of new bytes starts as soon as they land, and once on the device every byte but the
/// newest `windowBytes` is dropped from the cache.
///
/// Why: a session writes 10-350 MB/s for hours. Left to the kernel, every byte becomes a new page of
/// cache; where new pages are dear (a VM whose freed memory goes back to the host, measured at 13 ms
/// per 5.8 MB write against 1.2 ms with recycled pages; BENCHMARKS.md, issue 16) the writer's writes
/// slow down, and everywhere the session evicts the game's own cache and piles up dirty data that the
/// kernel later flushes in one stall. Pages dropped here are free again at once, so the writer's next
/// write reuses them.
///
/// The thread only reads the file's size and hands ranges to the kernel; it never writes, and it
/// holds its own read-only descriptor (a separate open file description, so the writer's lock and
/// offsets are untouched). The newest window stays cached for HDF5's metadata updates and live readers.
public final class WriteBehind: Sendable {
    public static let threadName = "rec-writeback"
    /// The newest bytes left in the page cache by default: enough for HDF5's metadata updates and a live
    /// reader's newest frames (~10 s of a 1080p game).
    public static let defaultWindowBytes: Int64 = 64 << 20
    /// Cached bytes beyond the window are dropped in steps of at least this.
    public static let stepBytes: Int64 = 8 << 20
    /// How often the file's size is looked at.
    static let pollIntervalNs: Int64 = 20_000_000
    /// Drop ranges start and end on this boundary: the page cache holds a file in folios of up to 2 MiB,
    /// each aligned to its size, and a folio that reaches past the range is kept whole. Unaligned ranges
    /// left one folio cached at every boundary (measured: 15% of a grainy 1080p session).
    static let folioAlignment: Int64 = 2 << 20

    private let logger: Logger
    private let shared: Shared
    private let thread: NamedThread

    /// What the caller and the thread both reach.
    private final class Shared: Sendable {
        let doorbell = Doorbell()
        let stopping = Atomic<Bool>(false)
        /// A descriptor handed over by `follow` and not yet taken by the thread (the lock is never held across I/O).
        let handedOver = Mutex<Int32?>(nil)
    }

    /// Starts the thread; it idles until `follow` names a file.
    /// - Parameters:
    ///   - windowBytes: newest bytes left cached (at least one step).
    ///   - notes: where a failure is reported for the session file; nil: the log only.
    public init(windowBytes: Int64 = WriteBehind.defaultWindowBytes, notes: BoundedMailbox<SessionNote>?,
                logger: Logger) throws(RecorderError) {
        let window = max(windowBytes, Self.stepBytes)
        let shared = Shared()
        thread = try NamedThread.spawn(name: Self.threadName) {
            WriteBehind.run(window: window, shared: shared, notes: notes, logger: logger)
        }
        self.shared = shared
        self.logger = logger
    }

    /// From now on follow the file open at `descriptor` (the caller keeps its own descriptor): the
    /// thread opens it anew read-only, so the previous file, if any, is no longer touched.
    public func follow(descriptor: Int32) {
        let own = open("/proc/self/fd/\(descriptor)", O_RDONLY | O_CLOEXEC)
        guard own >= 0 else {
            logger.warning("write-behind cannot open the session file again (\(errnoText(errno))); its pages stay cached")
            return
        }
        let replaced = shared.handedOver.withLock { slot -> Int32? in
            defer { slot = own }
            return slot
        }
        if let replaced { close(replaced) }
        shared.doorbell.ring()
    }

    /// Asks the thread to make a last pass and end; waits up to `timeoutNanoseconds`.
    /// - Returns: false when it is still in the kernel (a slow device); it ends on its own.
    @discardableResult
    public func stop(timeoutNanoseconds: Int64 = 2_000_000_000) -> Bool {
        shared.stopping.store(true, ordering: .releasing)
        shared.doorbell.ring()
        let joined = thread.join(timeoutNanoseconds: timeoutNanoseconds)
        if joined, let left = shared.handedOver.withLock({ slot -> Int32? in defer { slot = nil }; return slot }) {
            close(left)
        }
        if !joined { logger.warning("\(Self.threadName) did not stop within \(timeoutNanoseconds / 1_000_000) ms") }
        return joined
    }

    deinit {
        if !thread.hasFinished { stop() }
    }

    /// One followed file: its descriptor and how far writeback was started and pages were dropped.
    private struct Followed {
        let descriptor: Int32
        var writebackStarted: Int64 = 0
        var dropped: Int64 = 0

        /// Starts writeback of what was appended since the last pass and drops what fell out of the
        /// window: a step at a time, or everything out of it on the `last` pass. Returns 0 or an errno.
        mutating func pass(window: Int64, last: Bool) -> Int32 {
            var info = stat()
            let size = fstat(descriptor, &info) == 0 ? Int64(info.st_size) : 0
            if size > writebackStarted {
                let result = CLinuxShim_start_writeback(descriptor, writebackStarted, size - writebackStarted)
                guard result == 0 else { return result }
                writebackStarted = size
            }
            let target = (size - window) & ~(WriteBehind.folioAlignment - 1)
            guard target - dropped >= (last ? 1 : WriteBehind.stepBytes) else { return 0 }
            let result = CLinuxShim_write_back_and_drop(descriptor, dropped, target - dropped)
            guard result == 0 else { return result }
            dropped = target
            return 0
        }
    }

    /// The thread body: a pass every poll; a last pass over a file before it is left for the next part,
    /// and over the current one at `stop`.
    private static func run(window: Int64, shared: Shared, notes: BoundedMailbox<SessionNote>?, logger: Logger) {
        var followed: Followed?
        defer { if let followed { close(followed.descriptor) } }
        func report(_ result: Int32) {
            guard result != 0 else { return }
            // The writer's own writes and its flush report what this means for the data; here it only
            // ends the cache trimming of this file, so the kernel keeps its pages as it would anyway.
            let message = "write-behind stopped, the session's pages stay cached: \(errnoText(result))"
            if let notes {
                NoteSink(source: "writer", logger: logger, mailbox: notes).post("write-behind", message)
            } else {
                logger.warning("\(message)")
            }
        }
        while true {
            let seen = shared.doorbell.sequence
            let last = shared.stopping.load(ordering: .acquiring)
            if let next = shared.handedOver.withLock({ slot -> Int32? in defer { slot = nil }; return slot }) {
                if var previous = followed {
                    report(previous.pass(window: window, last: true))
                    close(previous.descriptor)
                }
                followed = Followed(descriptor: next)
            }
            if var current = followed {
                let result = current.pass(window: window, last: last)
                if result == 0 {
                    followed = current
                } else {
                    report(result)
                    close(current.descriptor)
                    followed = nil
                }
            }
            if last { return }
            shared.doorbell.wait(seen: seen, timeoutNanoseconds: pollIntervalNs)
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging
import RecorderCore
import Synchronization

/// The control socket: JSON lines over AF_UNIX, served by one poll loop on the thread "rec-control".
///
/// Every client socket is non-blocking, so a slow, silent or half-sent request never holds up the
/// others. Each complete line goes to the line handler on the control thread; the handler (or any
/// thread later) answers with `reply(_:to:)` exactly once. A client's next line is not handed on
/// until its previous request was answered, so replies keep request order.
public final class ControlServer: Sendable {
    /// Bounds on what one client may cost.
    public struct Limits: Sendable, Equatable {
        /// Longest request line in bytes, without the newline.
        public var maxLineBytes = 65_536
        /// How long a started line may stay without its newline before the client gets an error.
        public var lineTimeoutNanoseconds: Int64 = 5_000_000_000
        /// How long a connection may sit with nothing to do before it is closed.
        public var idleTimeoutNanoseconds: Int64 = 300_000_000_000
        /// How long unread replies may wait for a client that does not read.
        public var writeTimeoutNanoseconds: Int64 = 10_000_000_000
        /// Connections served at once; more are told so and closed.
        public var maxClients = 64
        public init() {}
    }

    /// Names one connection in replies handed back to the server.
    public struct ClientID: Sendable, Hashable, CustomStringConvertible {
        public let rawValue: UInt64
        public var description: String { "client-\(rawValue)" }
    }

    /// Called on the control thread for each complete request line.
    public typealias LineHandler = @Sendable (_ line: [UInt8], _ client: ClientID, _ peer: UnixSocket.PeerCredentials?) -> Void

    public static let threadName = "rec-control"

    public let path: String
    public let limits: Limits
    private let listener: Int32
    private let listenerIdentity: (UInt64, UInt64)?
    private let wakeRead: Int32
    private let wakeWrite: Int32
    private let allowedUIDs: Set<UInt32>
    private let logger: Logger
    private let outbox = Mutex<[(ClientID, String)]>([])
    private let stopFlag = Atomic<Bool>(false)
    private let thread = Mutex<NamedThread?>(nil)
    /// Bumped once per loop turn; the watchdog checks that it moves.
    public let heartbeat = Atomic<Int64>(0)

    /// Binds the socket at `path` (mode 0600) and prepares the loop; `start` begins serving.
    /// - Parameter allowedUIDs: peers whose SO_PEERCRED uid is not in this set are refused.
    public init(path: String, limits: Limits = Limits(), allowedUIDs: Set<UInt32>, logger: Logger) throws(RecorderError) {
        self.path = path
        self.limits = limits
        self.allowedUIDs = allowedUIDs
        self.logger = logger
        listener = try UnixSocket.listen(path: path)
        listenerIdentity = UnixSocket.identity(of: path)
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else {
            close(listener)
            unlink(path)
            throw .failed("pipe(): \(errnoText())")
        }
        for fd in fds {
            UnixSocket.setNonBlocking(fd)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
        wakeRead = fds[0]
        wakeWrite = fds[1]
    }

    /// Starts the control thread.
    public func start(handler: @escaping LineHandler) throws(RecorderError) {
        let loop = ControlLoop(server: self, handler: handler)
        let spawned = try NamedThread.spawn(name: Self.threadName) { loop.run() }
        thread.withLock { $0 = spawned }
    }

    /// Queues one reply line for `client`; safe from any thread. Replies for closed clients are dropped.
    public func reply(_ value: JSONValue, to client: ClientID) {
        let text = value.jsonText + "\n"
        outbox.withLock { $0.append((client, text)) }
        wake()
    }

    /// Stops the loop, closes every connection and removes the socket file.
    /// - Returns: false when the control thread did not stop within the timeout.
    @discardableResult
    public func stop(timeoutNanoseconds: Int64 = 2_000_000_000) -> Bool {
        stopFlag.store(true, ordering: .releasing)
        wake()
        guard let running = thread.withLock({ $0 }) else {
            closeListener()
            return true
        }
        return running.join(timeoutNanoseconds: timeoutNanoseconds)
    }

    private func wake() {
        var byte: UInt8 = 1
        _ = write(wakeWrite, &byte, 1)
    }

    var isStopping: Bool { stopFlag.load(ordering: .acquiring) }

    func takeOutbox() -> [(ClientID, String)] {
        var drained: [UInt8] = Array(repeating: 0, count: 256)
        while read(wakeRead, &drained, drained.count) > 0 {}
        return outbox.withLock { queued in
            defer { queued.removeAll() }
            return queued
        }
    }

    var listenerFD: Int32 { listener }
    var wakeFD: Int32 { wakeRead }

    func isAllowed(_ peer: UnixSocket.PeerCredentials?) -> Bool {
        guard let peer else { return false }
        return allowedUIDs.contains(peer.uid)
    }

    func log(_ level: Logger.Level, _ message: Logger.Message, _ metadata: Logger.Metadata = [:]) {
        logger.log(level: level, message, metadata: metadata)
    }

    /// Closes the listening socket and removes its file if it is still ours (a new daemon may own the path).
    func closeListener() {
        close(listener)
        if let ours = listenerIdentity, let current = UnixSocket.identity(of: path), ours == current {
            unlink(path)
        }
        close(wakeRead)
        close(wakeWrite)
    }
}

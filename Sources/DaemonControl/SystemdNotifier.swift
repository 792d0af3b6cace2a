#if canImport(Glibc)
import Glibc
#endif
import RecorderCore

/// sd_notify without libsystemd: datagrams to `$NOTIFY_SOCKET` (a path, or `@name` in the abstract namespace).
public final class SystemdNotifier: Sendable {
    public let socketPath: String
    private let fd: Int32
    /// Half of `$WATCHDOG_USEC` when systemd expects pings from this process, else nil.
    public let watchdogInterval: Int64?

    /// Nil when `NOTIFY_SOCKET` is unset or unusable (not running under systemd Type=notify).
    public init?(environment: [String: String]) {
        guard let path = environment["NOTIFY_SOCKET"], !path.isEmpty, path.hasPrefix("/") || path.hasPrefix("@") else { return nil }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        self.fd = fd
        socketPath = path
        var interval: Int64?
        if let text = environment["WATCHDOG_USEC"], let microseconds = Int64(text), microseconds > 0 {
            // WATCHDOG_PID, when set, names the process systemd watches; pings from others are ignored.
            let pidMatches = environment["WATCHDOG_PID"].map { Int32($0) == getpid() } ?? true
            if pidMatches { interval = microseconds * 1_000 / 2 }
        }
        watchdogInterval = interval
    }

    deinit { close(fd) }

    /// Sends one notification, e.g. "READY=1" or "STATUS=recording"; returns false when it failed.
    @discardableResult
    public func notify(_ state: String) -> Bool {
        guard let (target, length) = try? UnixSocket.address(socketPath) else { return false }
        var address = target
        let bytes = Array(state.utf8)
        let sent = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { target in
                bytes.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL), target, length) }
            }
        }
        return sent == bytes.count
    }
}

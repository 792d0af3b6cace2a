#if canImport(Glibc)
import Glibc
#endif
import Foundation
import RecorderCore

/// Thin, checked wrappers over AF_UNIX system calls used by the server, the client and sd_notify.
public enum UnixSocket {
    /// Who is on the other end of a connected AF_UNIX socket, as the kernel recorded it at connect time.
    public struct PeerCredentials: Sendable, Equatable {
        public var pid: Int32
        public var uid: UInt32
        public var gid: UInt32
    }

    /// Builds a `sockaddr_un` for `path`; a leading `@` names an abstract socket (Linux).
    static func address(_ path: String) throws(RecorderError) -> (sockaddr_un, socklen_t) {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(path.utf8)
        let abstract = bytes.first == UInt8(ascii: "@")
        if abstract { bytes[0] = 0 }
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard !bytes.isEmpty, bytes.count < capacity else {
            throw .invalidConfiguration("socket path '\(path)' is empty or longer than \(capacity - 1) bytes")
        }
        if !abstract, bytes.contains(0) { throw .invalidConfiguration("socket path contains a NUL byte") }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
        }
        let offset = MemoryLayout<sockaddr_un>.offset(of: \.sun_path)!
        // Abstract names are exactly their bytes; filesystem paths include the terminating NUL.
        let length = offset + bytes.count + (abstract ? 0 : 1)
        return (address, socklen_t(length))
    }

    /// Opens a stream socket listening at `path` with mode 0600.
    ///
    /// A missing parent directory is created with mode 0700. A stale socket left by a killed daemon is
    /// replaced; a live one (something accepts connections) is an error, as is any non-socket file.
    public static func listen(path: String, backlog: Int32 = 64) throws(RecorderError) -> Int32 {
        let parent = URL(fileURLWithPath: path).deletingLastPathComponent().path
        if !FileManager.default.fileExists(atPath: parent) {
            do {
                try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch {
                throw .storage("cannot create socket directory \(parent): \(error.localizedDescription)")
            }
        }
        var status = stat()
        if lstat(path, &status) == 0 {
            guard status.st_mode & S_IFMT == S_IFSOCK else {
                throw .storage("\(path) exists and is not a socket; refusing to replace it")
            }
            if let probe = try? connect(path: path, timeoutSeconds: 1) {
                close(probe)
                throw .storage("another daemon is already listening on \(path)")
            }
            unlink(path)
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw .storage("socket(): \(errnoText())") }
        var (address, length) = try address(path)
        // umask is process-wide, but this runs before any session thread creates files.
        let previousMask = umask(0o177)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        let bindError = errno
        umask(previousMask)
        guard bound == 0 else {
            close(fd)
            throw .storage("cannot bind control socket \(path): \(errnoText(bindError))")
        }
        chmod(path, 0o600)
        guard Glibc.listen(fd, backlog) == 0 else {
            let listenError = errno
            close(fd)
            unlink(path)
            throw .storage("cannot listen on \(path): \(errnoText(listenError))")
        }
        return fd
    }

    /// Connects a blocking stream socket to `path`, with send and receive timeouts.
    public static func connect(path: String, timeoutSeconds: Double) throws(RecorderError) -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .failed("socket(): \(errnoText())") }
        setTimeouts(fd, seconds: timeoutSeconds)
        var (address, length) = try address(path)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, length) }
        }
        guard result == 0 else {
            let code = errno
            close(fd)
            throw .failed("cannot connect to \(path): \(errnoText(code))")
        }
        return fd
    }

    /// Sets SO_RCVTIMEO and SO_SNDTIMEO.
    static func setTimeouts(_ fd: Int32, seconds: Double) {
        var time = timeval(tv_sec: Int(seconds), tv_usec: Int((seconds - seconds.rounded(.down)) * 1e6))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
    }

    /// SO_PEERCRED of a connected socket.
    public static func peerCredentials(_ fd: Int32) -> PeerCredentials? {
        // struct ucred is { pid_t pid; uid_t uid; gid_t gid; }: three 32-bit fields, no padding.
        var raw: (Int32, UInt32, UInt32) = (0, 0, 0)
        var length = socklen_t(MemoryLayout<(Int32, UInt32, UInt32)>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &raw, &length) == 0, length == 12 else { return nil }
        return PeerCredentials(pid: raw.0, uid: raw.1, gid: raw.2)
    }

    /// Sets O_NONBLOCK.
    static func setNonBlocking(_ fd: Int32) {
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
    }

    /// Identity (device, inode) of the file at `path`, if it exists.
    static func identity(of path: String) -> (UInt64, UInt64)? {
        var status = stat()
        guard lstat(path, &status) == 0 else { return nil }
        return (UInt64(status.st_dev), UInt64(status.st_ino))
    }
}

import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Replaces a small file so that a reader (or a crash) sees the old contents or the new, never a mix.
///
/// The bytes go to a hidden temporary in the same folder (created exclusively, never following a
/// link), are synced, and are renamed over the target; the folder is synced so the rename survives a
/// power cut. A symlink at the target is replaced, not followed.
public enum AtomicFile {
    /// Writes `data` to `path` with `mode` (default 0600).
    public static func write(_ data: Data, to path: String, mode: mode_t = 0o600) throws(RecorderError) {
        let folder = (path as NSString).deletingLastPathComponent
        let name = (path as NSString).lastPathComponent
        let temporary = (folder.isEmpty ? "" : folder + "/") + ".\(name).tmp-\(getpid())"
        unlink(temporary)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        guard fd >= 0 else { throw .storage("cannot create \(TerminalText.escaped(temporary)): \(errnoText())") }
        var failure: String?
        data.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = "cannot write \(TerminalText.escaped(temporary)): \(errnoText())"
                    return
                }
                offset += n
            }
        }
        if failure == nil && fsync(fd) != 0 { failure = "cannot sync \(TerminalText.escaped(temporary)): \(errnoText())" }
        close(fd)
        if failure == nil && rename(temporary, path) != 0 { failure = "cannot rename onto \(TerminalText.escaped(path)): \(errnoText())" }
        if let failure {
            unlink(temporary)
            throw .storage(failure)
        }
        let dir = open(folder.isEmpty ? "." : folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dir >= 0 {
            fsync(dir)
            close(dir)
        }
    }

    /// Reads at most `limit` bytes of a regular file (never through a symlink, never blocking on a FIFO).
    public static func read(_ path: String, limit: Int) throws(RecorderError) -> Data {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw .storage("cannot open \(TerminalText.escaped(path)): \(errnoText())") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            throw .storage("\(TerminalText.escaped(path)) is not a regular file")
        }
        guard info.st_size <= off_t(limit) else {
            throw .storage("\(TerminalText.escaped(path)) is \(info.st_size) bytes; at most \(limit) are read")
        }
        var data = Data(count: Int(info.st_size))
        var total = 0
        var failed = false
        data.withUnsafeMutableBytes { buffer in
            while total < buffer.count {
                let n = Glibc.read(fd, buffer.baseAddress! + total, buffer.count - total)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { failed = n < 0; break }
                total += n
            }
        }
        guard !failed else { throw .storage("cannot read \(TerminalText.escaped(path)): \(errnoText())") }
        return data.prefix(total)
    }
}

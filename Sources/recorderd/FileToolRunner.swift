#if canImport(Glibc)
import Glibc
#endif
import Foundation
import RecorderCore

/// Runs `recorder inspect` / `recorder recover` on a file of the output directory in a child process
/// with a deadline, so that a damaged or crafted file can at worst cost that child: a hang in HDF5
/// (which holds the library's global lock) or a crash never reaches the daemon.
struct FileToolRunner: Sendable {
    /// What a finished (or killed) child left.
    struct Outcome: Sendable {
        /// The exit status, nil when the child was killed by a signal or at the deadline.
        var status: Int32?
        var stdout: [UInt8]
        var stderr: String
        var timedOut: Bool

        /// One line for logs and replies.
        var failure: String {
            if timedOut { return "gave up after the deadline (the file may be damaged)" }
            guard let status else { return "the file tool died on the file (damaged or crafted file)" }
            let message = stderr.split(separator: "\n").last.map(String.init) ?? ""
            return message.isEmpty ? "exit status \(status)" : message
        }
    }

    /// The `recorder` binary installed beside `recorderd`.
    let recorderPath: String

    /// `recorder` beside the running executable.
    static func besideExecutable() -> FileToolRunner {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        let executable = length > 0 ? String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self) : "recorderd"
        let directory = (executable as NSString).deletingLastPathComponent
        return FileToolRunner(recorderPath: directory + "/recorder")
    }

    /// Most bytes kept of a child's stdout or stderr (a summary is a few KB).
    static let outputLimit = 4 << 20

    /// Runs `recorder ARGUMENTS` and waits at most `seconds`, then kills the child (SIGKILL).
    func run(_ arguments: [String], seconds: Double) -> Outcome {
        var out: [Int32] = [-1, -1]
        var err: [Int32] = [-1, -1]
        guard pipe(&out) == 0 else { return Outcome(status: 1, stdout: [], stderr: "pipe: \(errnoText(errno))", timedOut: false) }
        guard pipe(&err) == 0 else {
            close(out[0]); close(out[1])
            return Outcome(status: 1, stdout: [], stderr: "pipe: \(errnoText(errno))", timedOut: false)
        }
        // Close-on-exec for all four: the child keeps only the dup2'd copies on 1 and 2.
        for descriptor in out + err { _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, out[1], 1)
        posix_spawn_file_actions_adddup2(&actions, err[1], 2)
        // The daemon blocks its signals for the watcher thread; the child gets a clean mask and
        // default handlers so the deadline's SIGKILL and its own signals behave normally.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv = ([recorderPath] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, recorderPath, &actions, &attributes, argv, environ)
        close(out[1])
        close(err[1])
        defer { close(out[0]); close(err[0]) }
        guard spawned == 0 else {
            return Outcome(status: 1, stdout: [], stderr: "cannot run \(recorderPath): \(errnoText(spawned))", timedOut: false)
        }

        let deadline = MonotonicClock.now() + Int64(seconds * 1e9)
        var stdout: [UInt8] = []
        var stderr: [UInt8] = []
        var open = [true, true]
        var timedOut = false
        var chunk = [UInt8](repeating: 0, count: 65536)
        while open[0] || open[1] {
            let left = deadline - MonotonicClock.now()
            if left <= 0 {
                timedOut = true
                break
            }
            var fds = [pollfd(fd: open[0] ? out[0] : -1, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: open[1] ? err[0] : -1, events: Int16(POLLIN), revents: 0)]
            let ready = poll(&fds, 2, Int32(min(left / 1_000_000 + 1, 1000)))
            if ready < 0 && errno != EINTR { break }
            for (index, descriptor) in [out[0], err[0]].enumerated() where open[index] && fds[index].revents != 0 {
                let count = read(descriptor, &chunk, chunk.count)
                if count <= 0 {
                    if count == 0 || (errno != EINTR && errno != EAGAIN) { open[index] = false }
                    continue
                }
                if index == 0 {
                    if stdout.count < Self.outputLimit { stdout += chunk[0..<count] }
                } else if stderr.count < Self.outputLimit {
                    stderr += chunk[0..<count]
                }
            }
        }
        var status: Int32 = 0
        while !timedOut {
            let reaped = waitpid(pid, &status, WNOHANG)
            if reaped == pid || (reaped < 0 && errno != EINTR) { break }
            if MonotonicClock.now() >= deadline { timedOut = true } else { usleep(5_000) }
        }
        if timedOut {
            kill(pid, SIGKILL)
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        }
        // WIFEXITED / WEXITSTATUS, which Swift does not import as functions.
        let exited = status & 0x7f == 0
        return Outcome(status: exited && !timedOut ? (status >> 8) & 0xff : nil, stdout: stdout,
                       stderr: String(decoding: stderr, as: UTF8.self), timedOut: timedOut)
    }
}

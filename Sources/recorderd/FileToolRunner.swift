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
        let child: ChildProcess
        do {
            child = try ChildProcess.spawn([recorderPath] + arguments, options: ChildProcess.Options(
                newSession: false, mergeOutput: false, outputLimit: Self.outputLimit, keep: .head))
        } catch {
            return Outcome(status: 1, stdout: [], stderr: error.description, timedOut: false)
        }
        let deadline = MonotonicClock.now() + Int64(seconds * 1e9)
        var timedOut = false
        while child.hasOpenOutput {
            let left = deadline - MonotonicClock.now()
            if left <= 0 {
                timedOut = true
                break
            }
            child.pumpOutput(waitMilliseconds: Int32(min(left / 1_000_000 + 1, 1000)))
        }
        while !timedOut && child.reap() == nil {
            if MonotonicClock.now() >= deadline { timedOut = true } else { usleep(5_000) }
        }
        if timedOut { child.kill() }
        var status: Int32?
        if !timedOut, case .exited(let code) = child.termination { status = code }
        return Outcome(status: status, stdout: child.stdout.bytes, stderr: String(decoding: child.stderr.bytes, as: UTF8.self), timedOut: timedOut)
    }
}

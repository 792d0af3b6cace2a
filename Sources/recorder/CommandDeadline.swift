#if canImport(Glibc)
import Glibc
#endif
import Foundation
import RecorderCore

/// A time limit for a file tool run on a file that may be hostile: when it passes, the process
/// prints a clear error and exits with EX_TEMPFAIL, whatever the HDF5 library is doing.
enum CommandDeadline {
    /// EX_TEMPFAIL from sysexits.h: the tool gave up on the file in time.
    static let exitCode: Int32 = 75

    /// Arms the limit for the rest of the process; 0 or less disarms it.
    static func arm(seconds: Double, command: String, file: String) {
        guard seconds > 0, seconds.isFinite else { return }
        let message = "recorder \(command): gave up on \(file) after \(seconds) s (damaged or hostile file?)\n"
        let nanoseconds = UInt64(min(seconds, 86_400) * 1e9)
        _ = try? NamedThread.spawn(name: "rec-deadline") {
            var deadline = timespec()
            clock_gettime(CLOCK_MONOTONIC, &deadline)
            deadline.tv_sec += Int(nanoseconds / 1_000_000_000)
            deadline.tv_nsec += Int(nanoseconds % 1_000_000_000)
            if deadline.tv_nsec >= 1_000_000_000 { deadline.tv_sec += 1; deadline.tv_nsec -= 1_000_000_000 }
            while clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, nil) == EINTR {}
            message.withCString { _ = write(2, $0, strlen($0)) }
            // _exit: HDF5's exit handlers may wait on the very lock the stuck call holds.
            _exit(exitCode)
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif

/// Turns a fatal signal inside a file tool into a clear error and exit status 70 (EX_SOFTWARE).
///
/// HDF5 itself has memory-safety bugs on crafted files (libhdf5 1.10's global-heap read copies a
/// length taken from the file, CVE-2020-10811 and kin) that no check before the call can rule out.
/// `inspect` and `recover` read untrusted files, so a crash there is reported as a damaged file
/// instead of a core dump. The handler only writes a prebuilt message and calls `_exit`, both
/// async-signal-safe; it runs on its own stack so a stack overflow is caught too.
enum LibraryCrashGuard {
    /// EX_SOFTWARE from sysexits.h.
    static let exitCode: Int32 = 70

    /// The prebuilt message, read only by the handler.
    // nonisolated(unsafe): written once in `install` before any handler can run, then only read.
    nonisolated(unsafe) private static var message: UnsafeMutablePointer<CChar>?
    nonisolated(unsafe) private static var messageLength = 0

    static func install(command: String, file: String, changesFile: Bool) {
        let text = "recorder \(command): \(file) is damaged or crafted: reading it crashed the HDF5 library (fatal signal)"
            + (changesFile ? "; the file may be partly changed\n" : "; nothing was changed\n")
        message = strdup(text)
        messageLength = strlen(message!)
        let stackSize = 1 << 16
        var stack = stack_t(ss_sp: malloc(stackSize), ss_flags: 0, ss_size: stackSize)
        sigaltstack(&stack, nil)
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in
            if let message = LibraryCrashGuard.message { _ = write(2, message, LibraryCrashGuard.messageLength) }
            _exit(LibraryCrashGuard.exitCode)
        }
        action.sa_flags = SA_ONSTACK
        sigemptyset(&action.sa_mask)
        for signal in [SIGSEGV, SIGBUS, SIGABRT, SIGFPE] { sigaction(signal, &action, nil) }
    }
}

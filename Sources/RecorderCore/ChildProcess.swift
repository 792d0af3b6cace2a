import CLinuxShim
#if canImport(Glibc)
import Glibc
#endif

/// A program run without a shell (argv as given), its stdin on /dev/null and its stdout and stderr
/// read through non-blocking pipes into bounded buffers.
///
/// Every descriptor the parent makes is close-on-exec, so a child inherits only its own 0, 1 and 2.
/// With `newSession` the child leads its own session and process group, and `signal` reaches the
/// whole group (a shell script's children too). The owner polls it (`pumpOutput`, `reap`) from one
/// thread; a child still running when the value is dropped is killed and reaped, never left a zombie.
public final class ChildProcess {
    /// How a child ended.
    public enum Termination: Sendable, Equatable, CustomStringConvertible {
        case exited(Int32)
        case signaled(Int32)

        public var description: String {
            switch self {
            case .exited(let status): return "exit status \(status)"
            case .signaled(let signal): return "killed by signal \(signal)"
            }
        }
    }

    /// How to start a child.
    public struct Options: Sendable {
        /// Start a new session (setsid), so signals can go to the child's whole process group.
        public var newSession: Bool
        /// Send stderr into the stdout pipe (one interleaved stream in `stdout`).
        public var mergeOutput: Bool
        /// Bytes kept of each stream, and which end.
        public var outputLimit: Int
        public var keep: BoundedOutput.Keep

        public init(newSession: Bool, mergeOutput: Bool, outputLimit: Int, keep: BoundedOutput.Keep) {
            self.newSession = newSession
            self.mergeOutput = mergeOutput
            self.outputLimit = outputLimit
            self.keep = keep
        }
    }

    public let pid: pid_t
    public private(set) var stdout: BoundedOutput
    public private(set) var stderr: BoundedOutput
    /// Set once `reap` (or `kill`) collected the child.
    public private(set) var termination: Termination?
    private let signalsGroup: Bool
    /// The read ends still open: stdout, then stderr (-1 once closed or when merged).
    private var descriptors: [Int32]

    private init(pid: pid_t, descriptors: [Int32], options: Options) {
        self.pid = pid
        self.descriptors = descriptors
        signalsGroup = options.newSession
        stdout = BoundedOutput(limit: options.outputLimit, keep: options.keep)
        stderr = BoundedOutput(limit: options.outputLimit, keep: options.keep)
    }

    deinit {
        closeOutput()
        if termination == nil { kill() }
    }

    /// Starts `arguments[0]` (looked up on PATH when it has no `/`) with `arguments` as argv.
    /// - Throws: `RecorderError.failed` naming the program when it cannot be started.
    public static func spawn(_ arguments: [String], options: Options) throws(RecorderError) -> ChildProcess {
        guard let program = arguments.first, !program.isEmpty else { throw .failed("no program to run (empty argv)") }
        guard !arguments.contains(where: { $0.utf8.contains(0) }) else { throw .failed("an argument of \(TerminalText.escaped(program)) contains a NUL byte") }
        var out: [Int32] = [-1, -1]
        var err: [Int32] = [-1, -1]
        guard CLinuxShim_pipe_cloexec_nonblock(&out) == 0 else { throw .failed("pipe: \(errnoText())") }
        if !options.mergeOutput && CLinuxShim_pipe_cloexec_nonblock(&err) != 0 {
            let message = errnoText()
            close(out[0]); close(out[1])
            throw .failed("pipe: \(message)")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, out[1], 1)
        posix_spawn_file_actions_adddup2(&actions, options.mergeOutput ? out[1] : err[1], 2)
        // The recorder blocks its signals for the watcher thread; the child gets a clean mask and
        // default handlers so a deadline's signals and its own behave normally.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &all)
        var flags = Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)
        if options.newSession { flags |= CLinuxShim_posix_spawn_setsid_flag() }
        posix_spawnattr_setflags(&attributes, flags)
        let argv = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawnp(&pid, program, &actions, &attributes, argv, environ)
        close(out[1])
        if !options.mergeOutput { close(err[1]) }
        guard spawned == 0 else {
            close(out[0])
            if !options.mergeOutput { close(err[0]) }
            throw .failed("cannot run \(TerminalText.escaped(program)): \(errnoText(spawned))")
        }
        return ChildProcess(pid: pid, descriptors: [out[0], options.mergeOutput ? -1 : err[0]], options: options)
    }

    /// True while stdout or stderr may still deliver bytes.
    public var hasOpenOutput: Bool { descriptors.contains { $0 >= 0 } }

    /// Waits up to `milliseconds` for output, then reads what is there without blocking.
    public func pumpOutput(waitMilliseconds milliseconds: Int32) {
        guard hasOpenOutput else { return }
        var fds = descriptors.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        let ready = poll(&fds, nfds_t(fds.count), max(0, milliseconds))
        guard ready > 0 else { return }
        var chunk = [UInt8](repeating: 0, count: 16384)
        for index in descriptors.indices where descriptors[index] >= 0 && fds[index].revents != 0 {
            // Bounded per call, so a child that floods its pipe cannot keep the caller here.
            for _ in 0..<16 {
                let count = read(descriptors[index], &chunk, chunk.count)
                if count > 0 {
                    if index == 0 { stdout.append(chunk[0..<count]) } else { stderr.append(chunk[0..<count]) }
                    continue
                }
                if count == 0 || (errno != EINTR && errno != EAGAIN) {
                    close(descriptors[index])
                    descriptors[index] = -1
                }
                break
            }
        }
    }

    /// Closes the read ends (a grandchild that keeps them open then gets EPIPE, not our attention).
    public func closeOutput() {
        for index in descriptors.indices where descriptors[index] >= 0 {
            close(descriptors[index])
            descriptors[index] = -1
        }
    }

    /// Collects the child if it has ended (never blocks).
    @discardableResult
    public func reap() -> Termination? {
        if let termination { return termination }
        var status: Int32 = 0
        var reaped: pid_t
        repeat { reaped = waitpid(pid, &status, WNOHANG) } while reaped < 0 && errno == EINTR
        if reaped == pid {
            termination = Self.decode(status)
        } else if reaped < 0 {
            // ECHILD: someone else reaped it; nothing is left to wait for.
            termination = .signaled(0)
        }
        return termination
    }

    /// Sends `signal` to the child (its whole process group with `newSession`) unless it was reaped.
    public func signal(_ signal: Int32) {
        guard termination == nil else { return }
        _ = Glibc.kill(signalsGroup ? -pid : pid, signal)
    }

    /// SIGKILL, then waits for the child (SIGKILL cannot be caught, so the wait is short).
    public func kill() {
        signal(SIGKILL)
        guard termination == nil else { return }
        var status: Int32 = 0
        var reaped: pid_t
        repeat { reaped = waitpid(pid, &status, 0) } while reaped < 0 && errno == EINTR
        termination = reaped == pid ? Self.decode(status) : .signaled(SIGKILL)
    }

    /// WIFEXITED / WEXITSTATUS / WTERMSIG, which Swift does not import as functions.
    private static func decode(_ status: Int32) -> Termination {
        status & 0x7f == 0 ? .exited((status >> 8) & 0xff) : .signaled(status & 0x7f)
    }
}

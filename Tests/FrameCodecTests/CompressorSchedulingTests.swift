@testable import FrameCodec
import RecorderCore
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A compressor thread's scheduling class follows the governor's effort, as the kernel reports it.
@Suite struct CompressorSchedulingTests {
    /// SCHED_IDLE of <sched.h>, which Glibc's module leaves out (a GNU name).
    private static let schedIdle: Int32 = 5

    /// What a thread saw of its own scheduling: (SCHED_IDLE?, nice) after each step.
    private static func observe(_ steps: [CompressionEffort]) throws -> (mayIdle: Bool, seen: [(idle: Bool, nice: Int32)]) {
        let result = Mutex<(Bool, [(idle: Bool, nice: Int32)])>((false, []))
        let thread = try NamedThread.spawn(name: "test-compress") {
            func now() -> (idle: Bool, nice: Int32) {
                errno = 0
                return (sched_getscheduler(0) == Self.schedIdle, getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0))
            }
            var scheduling = CompressorScheduling()
            var seen = [now()]
            for effort in steps {
                scheduling.follow(effort)
                seen.append(now())
            }
            result.withLock { $0 = (scheduling.mayIdle, seen) }
        }
        #expect(thread.join(timeoutNanoseconds: 10_000_000_000))
        return result.withLock { $0 }
    }

    @Test("SCHED_IDLE while frames get the best level, nice 5 while they are degraded")
    func followsTheGovernor() throws {
        let (mayIdle, seen) = try Self.observe([.fast, .unfiltered, .best, .best, .unfiltered])
        #expect(seen.allSatisfy { $0.nice == CompressorScheduling.nice })
        if mayIdle {
            #expect(seen.map(\.idle) == [true, false, false, true, true, false])
        } else {
            // Without the right to come back (CAP_SYS_NICE, RLIMIT_NICE), the thread never enters SCHED_IDLE.
            #expect(seen.allSatisfy { !$0.idle })
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
import DaemonControl
import RecorderCore
import Foundation
import Testing
import TestSupport

/// The real `recorder` and `recorderd` binaries given hostile numbers, a closed stdout, a SIGTERM
/// racing a start, and starts that fail half-way.
@Suite(.serialized, .enabled(if: DaemonProcess.binaryIsReal, "needs the integrated recorderd binary"))
struct HostileDaemonTests {
    @Test(arguments: [
        ["--duration", "1e300"], ["--duration", "nan"], ["--region", "9223372036854775000,0,100,100"],
        ["--region", "0,0,9223372036854775807,10"], ["--compression-level", "5000000000"], ["--state-rate", "1e-300"],
        ["--keyframe-interval", "9223372036854775807"], ["--meta", "k\u{1B}[2J=v"],
    ])
    func cliRefusesOutOfRangeNumbersWithUsageStatus(arguments: [String]) throws {
        let folder = try TestPaths.temporaryDirectory("cli-numbers")
        defer { try? FileManager.default.removeItem(at: folder) }
        let output = folder.appendingPathComponent("x.h5").path
        let record = try runTool(TestPaths.recorderCLI, ["record", "--output", output, "--input", "none", "--display", ":99"] + arguments)
        #expect(record.status == 64, "record \(arguments): \(record.status) \(record.stderr)")
        #expect(record.stderr.contains(arguments[0]), "\(record.stderr)")
        #expect(!record.stderr.unicodeScalars.contains { $0.value == 0x1B }, "no raw ESC on the terminal: \(record.stderr)")
        #expect(!FileManager.default.fileExists(atPath: output))
        let start = try runTool(TestPaths.recorderCLI, ["start", "--name", "n", "--socket", "/nonexistent/recorder.sock"] + arguments)
        #expect(start.status == 64, "start \(arguments): \(start.status) \(start.stderr)")
    }

    /// `recorder record ... | head`: the reader goes away, the session still ends cleanly and seals.
    @Test func closedStdoutAndStderrDoNotKillARecording() throws {
        let display = try XvfbDisplay()
        let folder = try TestPaths.temporaryDirectory("sigpipe")
        defer { try? FileManager.default.removeItem(at: folder) }
        let output = folder.appendingPathComponent("piped.h5").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: TestPaths.recorderCLI)
        process.arguments = ["record", "--output", output, "--duration", "1.5", "--input", "none", "--display", display.name, "--meta", "title=\u{1B}]0;owned\u{07}\u{9B}2J"]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = out
        try process.run()
        // The reader exits at once, as `head -c0` would.
        try out.fileHandleForReading.close()
        try out.fileHandleForWriting.close()
        process.waitUntilExit()
        #expect(process.terminationReason == .exit, "killed by signal \(process.terminationStatus)")
        #expect(process.terminationStatus == 0)
        let check = try runPython("""
            import h5py, hdf5plugin, sys
            with h5py.File(sys.argv[1], "r") as f:
                print(int(f.attrs["clean_shutdown"]), f.attrs["end_reason"])
            """, arguments: [output])
        #expect(check.stdout.hasPrefix("1 duration"), "\(check.stdout) \(check.stderr)")

        // The stored value is kept as given; the terminal sees it escaped.
        let inspect = try runTool(TestPaths.recorderCLI, ["inspect", output])
        #expect(inspect.status == 0, "\(inspect.stderr)")
        #expect(inspect.stdout.contains("title=\\x1b]0;owned\\x07\\x9b2J"), "\(inspect.stdout)")
        #expect(!inspect.stdout.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x07 || $0.value == 0x9B }, "\(inspect.stdout)")
    }

    /// SIGTERM within a few milliseconds of a `start`: the session is refused or recorded and sealed, never left open.
    @Test(arguments: [0, 300, 1000, 3000, 20_000])
    func sigtermRightAfterAStartLeavesNoUnsealedFile(delayMicroseconds: Int) throws {
        let display = try XvfbDisplay()
        let daemon = try DaemonProcess(display: display)
        let client = try ControlTestClient(path: daemon.socketPath)
        client.send("{\"command\": \"start\", \"name\": \"raced\", \"input\": \"none\", \"display\": \"\(display.name)\"}\n")
        if delayMicroseconds > 0 { usleep(UInt32(delayMicroseconds)) }
        kill(daemon.pid, SIGTERM)
        #expect(daemon.terminate() == 0, "\(daemon.log)")
        let file = daemon.outputDirectory + "/raced.h5"
        guard FileManager.default.fileExists(atPath: file) else { return }
        let check = try runPython("""
            import h5py, hdf5plugin, sys
            with h5py.File(sys.argv[1], "r") as f:
                print(int(f.attrs["clean_shutdown"]))
            """, arguments: [file])
        #expect(check.stdout.hasPrefix("1"), "an unsealed file after SIGTERM \(delayMicroseconds) us after start: \(check.stdout) \(check.stderr)\n\(daemon.log)")
    }

    /// A start whose second replay is unreadable fails; the daemon holds no more descriptors after it.
    @Test func failedStartsWithTwoReplaysLeakNoDescriptors() throws {
        let display = try XvfbDisplay()
        let daemon = try DaemonProcess(display: display)
        let good = TestPaths.evemuFixtures.appendingPathComponent("logitech-k400-plus.events").path
        let request = "{\"command\": \"start\", \"name\": \"leaky\", \"display\": \"\(display.name)\", \"input\": [\"replay:\(good)\", \"replay:/nonexistent/missing.events\"]}"
        func failedStart() throws {
            let reply = try ControlTestClient(path: daemon.socketPath).request(request, timeout: 20)
            #expect(reply?["ok"] == false, "\(String(describing: reply))")
            #expect(reply?["error"]?.stringValue?.contains("missing.events") == true, "\(String(describing: reply))")
        }
        func descriptors() throws -> Int { try FileManager.default.contentsOfDirectory(atPath: "/proc/\(daemon.pid)/fd").count }
        try failedStart()  // the first start may open what the process keeps (X and HDF5 set-up)
        Thread.sleep(forTimeInterval: 0.3)
        let before = try descriptors()
        for _ in 0..<4 { try failedStart() }
        Thread.sleep(forTimeInterval: 0.3)
        let after = try descriptors()
        #expect(after <= before, "descriptors \(before) -> \(after) over 4 failed starts")
        #expect(daemon.terminate() == 0)
    }
}

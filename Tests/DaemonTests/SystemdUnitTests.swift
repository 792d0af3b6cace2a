import Foundation
import Testing
import TestSupport

/// Both unit files pass `systemd-analyze verify` without a single complaint.
struct SystemdUnitTests {
    @Test(arguments: ["recorderd.service", "recorderd-system.service"])
    func unitVerifies(unit: String) throws {
        let source = TestPaths.packageRoot.appendingPathComponent("systemd/\(unit)")
        let text = try String(contentsOf: source, encoding: .utf8)
        #expect(text.contains("ExecStart=/usr/local/bin/recorderd"))
        #expect(text.contains("Type=notify") && text.contains("WatchdogSec=") && text.contains("Restart=on-failure"))
        #expect(text.contains("RuntimeDirectory=recorder") && text.contains("RuntimeDirectoryMode=0700"))
        #expect(text.contains("PrivateTmp=no"), "a private /tmp would hide the X socket in /tmp/.X11-unix")

        // verify needs ExecStart to exist: point it at the built daemon, or at an installed one.
        let directory = try TestPaths.temporaryDirectory("units")
        defer { try? FileManager.default.removeItem(at: directory) }
        let binary = FileManager.default.isExecutableFile(atPath: TestPaths.recorderDaemon) ? TestPaths.recorderDaemon : "/usr/bin/true"
        try text.replacingOccurrences(of: "/usr/local/bin/recorderd", with: binary)
            .write(to: directory.appendingPathComponent(unit), atomically: true, encoding: .utf8)
        let runtime = directory.appendingPathComponent("xdg-runtime")
        try FileManager.default.createDirectory(at: runtime, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let userUnit = unit == "recorderd.service"
        let result = try runTool(
            "/usr/bin/systemd-analyze", (userUnit ? ["--user"] : []) + ["verify", directory.appendingPathComponent(unit).path],
            environment: ["XDG_RUNTIME_DIR": runtime.path, "SYSTEMD_LOG_LEVEL": "notice"])
        #expect(result.status == 0, "\(unit): \(result.stderr)")
        let complaints = result.stderr.split(separator: "\n").filter { $0.contains(unit) }
        #expect(complaints.isEmpty, "\(unit): \(complaints.joined(separator: "\n"))")
    }
}

#if canImport(Glibc)
import Glibc
#endif
import DaemonControl
import Foundation
import Testing
import TestSupport

/// Only the daemon's own user and root may use the control socket.
@Suite(.serialized)
struct PeerCredentialTests {
    /// Connects as `nobody` and prints the reply line, or `connect-error ERRNO_NAME`.
    static let nobodyClient = """
        import errno, socket, sys
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(30)
        try:
            s.connect(sys.argv[1])
        except OSError as e:
            print("connect-error", errno.errorcode.get(e.errno, e.errno)); sys.exit(0)
        s.sendall(b'{"command": "status"}\\n')
        data = b""
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            data += chunk
        print(data.decode(errors="replace").strip())
        """

    private func runAsNobody(_ socketPath: String) throws -> String {
        let result = try runTool("/usr/bin/setpriv", [
            "--reuid=65534", "--regid=65534", "--clear-groups", "/usr/bin/python3", "-c", Self.nobodyClient, socketPath,
        ])
        #expect(result.status == 0, "client as nobody failed: \(result.stderr)")
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test(.enabled(if: getuid() == 0, "needs root to run a client as nobody"))
    func anotherUserIsRefusedByTheFileModeAndByTheCredentialCheck() throws {
        let daemon = try InProcessDaemon()
        // The real protection: a 0600 socket cannot even be connected to by another user.
        #expect(try runAsNobody(daemon.socketPath) == "connect-error EACCES")

        // With the mode opened on purpose, SO_PEERCRED still turns the other user away.
        #expect(chmod(daemon.socketPath, 0o666) == 0)
        let output = try runAsNobody(daemon.socketPath)
        let lines = output.split(separator: "\n")
        #expect(lines.count == 1, "exactly one line for a refused peer: \(output)")
        let reply = try #require(try? JSONValue.parse(String(lines.first ?? "")))
        #expect(reply["ok"] == false)
        #expect(reply["code"] == "permission-denied")
        let error = reply["error"]?.stringValue ?? ""
        #expect(error.hasPrefix("permission denied"))
        #expect(error.contains("uid 65534"))
        #expect(!output.contains("idle"), "the refused peer must not see any status")

        // Root (our own user here) is still served.
        #expect(try daemon.client().request("{\"command\": \"status\"}")?["ok"] == true)
        #expect(daemon.shutdown())
    }
}

#if canImport(Glibc)
import Glibc
#endif
import DaemonControl
import Foundation
import Testing
import TestSupport

/// sd_notify over a real datagram socket standing in for systemd's NOTIFY_SOCKET.
@Suite(.serialized)
struct SystemdNotifyTests {
    /// A bound AF_UNIX datagram socket collecting notifications.
    final class NotifyListener {
        let fd: Int32
        let name: String
        private var path: String?

        /// `abstract` binds `@name` in the abstract namespace instead of a file.
        init(directory: URL, abstract: Bool) throws {
            fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            var bytes: [UInt8]
            if abstract {
                name = "@recorder-test-\(UUID().uuidString.prefix(8))"
                bytes = Array(name.utf8)
                bytes[0] = 0
            } else {
                name = directory.appendingPathComponent("notify.sock").path
                path = name
                bytes = Array(name.utf8)
            }
            withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
            let length = MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + bytes.count + (abstract ? 0 : 1)
            let result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(length)) }
            }
            guard result == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        }

        deinit {
            close(fd)
            if let path { unlink(path) }
        }

        /// Messages received until `until` returns true for the collected list, or `timeout` passes.
        func collect(timeout: Double, until done: ([String]) -> Bool) -> [String] {
            var messages: [String] = []
            let deadline = Date().addingTimeInterval(timeout)
            while !done(messages) {
                let left = deadline.timeIntervalSinceNow
                if left <= 0 { break }
                var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                guard poll(&descriptor, 1, Int32(left * 1000) + 1) > 0 else { continue }
                var buffer = [UInt8](repeating: 0, count: 4096)
                let count = recv(fd, &buffer, buffer.count, 0)
                if count > 0 { messages.append(String(decoding: buffer[0..<count], as: UTF8.self)) }
            }
            return messages
        }
    }

    private func lines(_ messages: [String]) -> [String] {
        messages.flatMap { $0.split(separator: "\n").map(String.init) }
    }

    @Test(arguments: [false, true])
    func readyWatchdogAndStoppingReachTheNotifySocket(abstract: Bool) throws {
        let directory = try TestPaths.temporaryDirectory("notify")
        defer { try? FileManager.default.removeItem(at: directory) }
        let listener = try NotifyListener(directory: directory, abstract: abstract)
        let daemon = try InProcessDaemon(environment: ["NOTIFY_SOCKET": listener.name, "WATCHDOG_USEC": "200000"])

        let early = lines(listener.collect(timeout: 30) { self.lines($0).filter { $0 == "WATCHDOG=1" }.count >= 3 })
        #expect(early.first == "READY=1", "READY=1 comes first, once listening: \(early)")
        #expect(early.contains { $0.hasPrefix("STATUS=idle") })
        #expect(early.filter { $0 == "WATCHDOG=1" }.count >= 3, "idle daemon pings at WATCHDOG_USEC/2: \(early)")
        // READY=1 is only sent once the socket answers.
        #expect(try daemon.client().request("{\"command\": \"status\"}")?["ok"] == true)

        #expect(daemon.shutdown())
        let late = lines(listener.collect(timeout: 10) { self.lines($0).contains("STOPPING=1") })
        #expect(late.contains("STOPPING=1"), "SIGTERM sends STOPPING=1: \(late)")
        // After shutdown no more pings arrive.
        let after = lines(listener.collect(timeout: 0.5) { _ in false })
        #expect(!after.contains("WATCHDOG=1"))
    }

    @Test func watchdogPingsAreSpacedAtHalfTheInterval() throws {
        let directory = try TestPaths.temporaryDirectory("notify")
        defer { try? FileManager.default.removeItem(at: directory) }
        let listener = try NotifyListener(directory: directory, abstract: false)
        let daemon = try InProcessDaemon(environment: ["NOTIFY_SOCKET": listener.name, "WATCHDOG_USEC": "1000000"])
        let began = Date()
        let messages = lines(listener.collect(timeout: 2.2) { _ in false })
        let elapsed = Date().timeIntervalSince(began)
        let pings = messages.filter { $0 == "WATCHDOG=1" }.count
        // One ping per 0.5 s, the first at once: never more (no flood, no burst after a late wake-up).
        // A loaded machine may send one late, so fewer are legal; that they keep coming is checked next.
        #expect(pings >= 1 && pings <= Int(elapsed / 0.5) + 1, "\(pings) pings in \(elapsed) s")
        let more = lines(listener.collect(timeout: 30) { self.lines($0).filter { $0 == "WATCHDOG=1" }.count >= 2 })
        #expect(more.filter { $0 == "WATCHDOG=1" }.count >= 2, "pings keep coming: \(more)")
        #expect(daemon.shutdown())
    }

    @Test func watchdogIsSilentForAnotherProcessWatchdogPid() throws {
        let directory = try TestPaths.temporaryDirectory("notify")
        defer { try? FileManager.default.removeItem(at: directory) }
        let listener = try NotifyListener(directory: directory, abstract: false)
        let daemon = try InProcessDaemon(environment: ["NOTIFY_SOCKET": listener.name, "WATCHDOG_USEC": "200000", "WATCHDOG_PID": "\(getpid() + 1)"])
        let messages = lines(listener.collect(timeout: 1) { _ in false })
        #expect(messages.contains("READY=1"))
        #expect(!messages.contains("WATCHDOG=1"))
        #expect(daemon.shutdown())
    }
}

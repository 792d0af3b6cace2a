#if canImport(Glibc)
import Glibc
#endif
import RecorderCore

/// The state of the control thread: every client connection with its buffers and deadlines.
///
/// Lives on the control thread only; the server reaches it through the outbox and the wake pipe.
final class ControlLoop: @unchecked Sendable {
    // @unchecked Sendable: handed to NamedThread.spawn once and used only on that thread afterwards.

    private struct Client {
        enum Phase {
            /// Reading requests.
            case open
            /// Sending what is queued, then closing.
            case closing
            /// Output flushed and write side shut; discarding input until EOF so the peer sees a clean end.
            case draining(deadline: Int64)
        }

        let id: ControlServer.ClientID
        let fd: Int32
        let peer: UnixSocket.PeerCredentials?
        var input: [UInt8] = []
        var output: [UInt8] = []
        var phase = Phase.open
        var awaitingReply = false
        var peerFinished = false
        var partialSince: Int64?
        var lastActivity: Int64
        var outputSince: Int64?
    }

    private let server: ControlServer
    private let handler: ControlServer.LineHandler
    private var clients: [UInt64: Client] = [:]
    private var nextID: UInt64 = 1
    private var readBuffer = [UInt8](repeating: 0, count: 65_536)

    init(server: ControlServer, handler: @escaping ControlServer.LineHandler) {
        self.server = server
        self.handler = handler
    }

    func run() {
        server.log(.info, "listening", ["socket": "\(server.path)"])
        while !server.isStopping {
            server.heartbeat.bump()
            turn()
        }
        for client in clients.values { close(client.fd) }
        clients.removeAll()
        server.closeListener()
    }

    /// One poll and everything it made ready.
    private func turn() {
        var order: [UInt64] = []
        var descriptors: [pollfd] = [
            pollfd(fd: server.listenerFD, events: Int16(POLLIN), revents: 0),
            pollfd(fd: server.wakeFD, events: Int16(POLLIN), revents: 0),
        ]
        for (id, client) in clients {
            // A peer that hung up reports POLLHUP whatever we ask for; polling it while its reply is
            // still being prepared would spin. Its reply (if any) is attempted on delivery.
            if client.peerFinished, case .open = client.phase, client.output.isEmpty { continue }
            var events: Int32 = 0
            switch client.phase {
            case .open: if !client.awaitingReply && !client.peerFinished { events |= POLLIN }
            case .closing: break
            case .draining: events |= POLLIN
            }
            if !client.output.isEmpty { events |= POLLOUT }
            descriptors.append(pollfd(fd: client.fd, events: Int16(events), revents: 0))
            order.append(id)
        }
        let timeout = pollTimeoutMilliseconds()
        let ready = poll(&descriptors, nfds_t(descriptors.count), timeout)
        if ready < 0 && errno != EINTR {
            server.log(.error, "poll failed on the control socket", ["errno": "\(errno)"])
        }
        let now = MonotonicClock.now()
        for (client, text) in server.takeOutbox() { deliver(text, to: client.rawValue, now: now) }
        if ready > 0 {
            if descriptors[0].revents & Int16(POLLIN) != 0 { acceptAll(now: now) }
            for (index, id) in order.enumerated() {
                let revents = descriptors[index + 2].revents
                guard revents != 0 else { continue }
                service(id, revents: revents, now: now)
            }
        }
        for id in Array(clients.keys) { advance(id, now: MonotonicClock.now()) }
    }

    private func pollTimeoutMilliseconds() -> Int32 {
        // The loop wakes at least 4 times a second so its heartbeat shows it is alive.
        var deadline = MonotonicClock.now() + 250_000_000
        let limits = server.limits
        for client in clients.values {
            if let since = client.partialSince { deadline = min(deadline, since + limits.lineTimeoutNanoseconds) }
            if let since = client.outputSince { deadline = min(deadline, since + limits.writeTimeoutNanoseconds) }
            if case .draining(let end) = client.phase { deadline = min(deadline, end) }
        }
        let left = deadline - MonotonicClock.now()
        return Int32(max(0, min(250, (left + 999_999) / 1_000_000)))
    }

    private func acceptAll(now: Int64) {
        while true {
            // accept4 is not in Swift's Glibc module; the flags are set right after instead (no exec happens here).
            let fd = accept(server.listenerFD, nil, nil)
            if fd < 0 {
                if errno == EINTR { continue }
                if errno != EAGAIN && errno != EWOULDBLOCK {
                    server.log(.warning, "accept failed on the control socket", ["errno": "\(errno)"])
                }
                return
            }
            UnixSocket.setNonBlocking(fd)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            let peer = UnixSocket.peerCredentials(fd)
            let id = nextID
            nextID += 1
            clients[id] = Client(id: ControlServer.ClientID(rawValue: id), fd: fd, peer: peer, lastActivity: now)
            if !server.isAllowed(peer) {
                let who = peer.map { "uid \($0.uid) (pid \($0.pid))" } ?? "a peer without credentials"
                server.log(.warning, "refused a control connection", ["peer": "\(who)"])
                refuse(id, ControlError(.permissionDenied, "permission denied: \(who) may not control this recorder; only uid \(getuid()) and root may"), now: now)
            } else if clients.count > server.limits.maxClients {
                if let idle = longestIdle(except: id) {
                    // Idle connections cost nothing to close and must not lock out a client with a request.
                    refuse(idle, ControlError(.tooManyClients, "closing an idle control connection to make room for a new one"), now: now)
                } else {
                    refuse(id, ControlError(.tooManyClients, "too many control connections (at most \(server.limits.maxClients)); try again later"), now: now)
                }
            }
        }
    }

    /// The open connection that has waited longest with no reply owed and nothing to send.
    private func longestIdle(except newcomer: UInt64) -> UInt64? {
        clients.values
            .filter { client in
                guard client.id.rawValue != newcomer, case .open = client.phase else { return false }
                return !client.awaitingReply && client.output.isEmpty
            }
            .min { $0.lastActivity < $1.lastActivity }?.id.rawValue
    }

    /// Sends one error line and closes the connection after it.
    private func refuse(_ id: UInt64, _ error: ControlError, now: Int64) {
        guard var client = clients[id] else { return }
        client.output += Array((error.reply.jsonText + "\n").utf8)
        client.outputSince = client.outputSince ?? now
        client.phase = .closing
        client.input.removeAll()
        client.partialSince = nil
        clients[id] = client
        flush(id, now: now)
    }

    private func deliver(_ text: String, to id: UInt64, now: Int64) {
        guard var client = clients[id] else { return }
        client.output += Array(text.utf8)
        client.outputSince = client.outputSince ?? now
        client.awaitingReply = false
        client.lastActivity = now
        client.partialSince = client.input.isEmpty ? nil : now
        clients[id] = client
        flush(id, now: now)
    }

    private func service(_ id: UInt64, revents: Int16, now: Int64) {
        guard let client = clients[id] else { return }
        if revents & Int16(POLLOUT) != 0 { flush(id, now: now) }
        if revents & Int16(POLLIN | POLLHUP | POLLERR) != 0 {
            if case .draining = client.phase {
                drain(id)
            } else if revents & Int16(POLLIN | POLLHUP) != 0 {
                readAvailable(id, now: now)
                // POLLHUP: both directions are shut, even if unread input kept recv from seeing the end.
                if revents & Int16(POLLHUP) != 0, var hungUp = clients[id] {
                    hungUp.peerFinished = true
                    clients[id] = hungUp
                }
            } else {
                closeClient(id)
            }
        }
    }

    private func readAvailable(_ id: UInt64, now: Int64) {
        guard var client = clients[id] else { return }
        let cap = server.limits.maxLineBytes + 1
        while client.input.count <= cap {
            let count = recv(client.fd, &readBuffer, readBuffer.count, 0)
            if count > 0 {
                client.input += readBuffer[0..<count]
                client.lastActivity = now
                if client.partialSince == nil { client.partialSince = now }
                continue
            }
            if count == 0 {
                client.peerFinished = true
            } else if errno == EINTR {
                continue
            } else if errno != EAGAIN && errno != EWOULDBLOCK {
                clients[id] = client
                closeClient(id)
                return
            }
            break
        }
        clients[id] = client
    }

    /// Hands on the next complete line, enforces limits and deadlines, closes finished connections.
    private func advance(_ id: UInt64, now: Int64) {
        guard var client = clients[id] else { return }
        let limits = server.limits
        switch client.phase {
        case .draining(let deadline):
            if now >= deadline { closeClient(id) }
            return
        case .closing:
            if client.output.isEmpty { startDraining(id, now: now) }
            return
        case .open:
            break
        }
        if !client.output.isEmpty, let since = client.outputSince, now - since > limits.writeTimeoutNanoseconds {
            server.log(.warning, "closing a control connection that does not read its replies", ["client": "\(client.id)"])
            closeClient(id)
            return
        }
        guard !client.awaitingReply else { return }
        if let newline = client.input.firstIndex(of: UInt8(ascii: "\n")) {
            if newline > limits.maxLineBytes {
                refuse(id, tooLarge(), now: now)
                return
            }
            var line = Array(client.input[..<newline])
            client.input.removeSubrange(...newline)
            if line.last == UInt8(ascii: "\r") { line.removeLast() }
            client.partialSince = client.input.isEmpty ? nil : now
            client.awaitingReply = true
            clients[id] = client
            handler(line, client.id, client.peer)
            return
        }
        if client.input.count > limits.maxLineBytes {
            refuse(id, tooLarge(), now: now)
            return
        }
        if client.peerFinished {
            if client.input.isEmpty {
                if client.output.isEmpty { closeClient(id) }
                return
            }
            // A last request without its newline before the peer shut its write side still counts.
            let line = client.input
            client.input.removeAll()
            client.partialSince = nil
            client.awaitingReply = true
            clients[id] = client
            handler(line, client.id, client.peer)
            return
        }
        if let since = client.partialSince, now - since >= limits.lineTimeoutNanoseconds {
            let seconds = Double(limits.lineTimeoutNanoseconds) / 1e9
            refuse(id, ControlError(.timeout, "request line incomplete after \(seconds) s (\(client.input.count) bytes without a newline); closing"), now: now)
            return
        }
        if client.input.isEmpty && client.output.isEmpty && now - client.lastActivity > limits.idleTimeoutNanoseconds {
            closeClient(id)
        }
    }

    private func tooLarge() -> ControlError {
        ControlError(.tooLarge, "request line longer than \(server.limits.maxLineBytes) bytes; closing")
    }

    private func flush(_ id: UInt64, now: Int64) {
        guard var client = clients[id] else { return }
        while !client.output.isEmpty {
            let sent = client.output.withUnsafeBytes { send(client.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent > 0 {
                client.output.removeFirst(sent)
                client.outputSince = client.output.isEmpty ? nil : now
                continue
            }
            if sent < 0 && errno == EINTR { continue }
            if sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { break }
            clients[id] = client
            closeClient(id)
            return
        }
        clients[id] = client
        if case .closing = client.phase, client.output.isEmpty { startDraining(id, now: now) }
    }

    private func startDraining(_ id: UInt64, now: Int64) {
        guard var client = clients[id] else { return }
        shutdown(client.fd, Int32(SHUT_WR))
        if client.peerFinished {
            closeClient(id)
            return
        }
        client.phase = .draining(deadline: now + 1_000_000_000)
        clients[id] = client
    }

    private func drain(_ id: UInt64) {
        guard let client = clients[id] else { return }
        while true {
            let count = recv(client.fd, &readBuffer, readBuffer.count, 0)
            if count > 0 { continue }
            if count < 0 && errno == EINTR { continue }
            if count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { return }
            closeClient(id)
            return
        }
    }

    private func closeClient(_ id: UInt64) {
        guard let client = clients.removeValue(forKey: id) else { return }
        close(client.fd)
    }
}

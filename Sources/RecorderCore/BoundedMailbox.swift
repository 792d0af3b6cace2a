import Synchronization

/// A bounded multi-producer queue for rare, non-trivial messages (device rows, state samples).
///
/// The lock is held only to append or swap out the array: no I/O and no waiting under it.
/// A full mailbox refuses the message and the sender counts the drop.
public final class BoundedMailbox<Message: Sendable>: Sendable {
    private let messages: Mutex<[Message]>
    public let capacity: Int
    public let doorbell: Doorbell

    public init(capacity: Int, doorbell: Doorbell = Doorbell()) {
        precondition(capacity > 0, "mailbox capacity must be positive")
        self.capacity = capacity
        self.doorbell = doorbell
        self.messages = Mutex([])
    }

    /// Appends `message` unless the mailbox holds `capacity` messages already. Never blocks on I/O.
    /// - Returns: false when the mailbox was full.
    @discardableResult
    public func trySend(_ message: sending Message) -> Bool {
        let accepted = messages.withLock { queue -> Bool in
            if queue.count >= capacity { return false }
            queue.append(message)
            return true
        }
        if accepted { doorbell.ring() }
        return accepted
    }

    /// Takes every waiting message, oldest first.
    public func drain() -> [Message] {
        messages.withLock { queue in
            let taken = queue
            queue.removeAll(keepingCapacity: true)
            return taken
        }
    }

    public var count: Int { messages.withLock { $0.count } }
}

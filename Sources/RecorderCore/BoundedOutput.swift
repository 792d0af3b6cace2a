/// The bytes a child process wrote to a pipe, kept up to a limit: the first bytes (a tool's answer)
/// or the last ones (an uploader's final complaint).
public struct BoundedOutput: Sendable, Equatable {
    /// Which end is kept once more than `limit` bytes arrived.
    public enum Keep: Sendable, Equatable { case head, tail }

    public let limit: Int
    public let keep: Keep
    public private(set) var bytes: [UInt8] = []
    /// Bytes that arrived beyond `limit` and were not kept.
    public private(set) var droppedBytes: Int64 = 0

    public init(limit: Int, keep: Keep) {
        self.limit = max(0, limit)
        self.keep = keep
    }

    /// Adds what one read returned.
    public mutating func append(_ chunk: ArraySlice<UInt8>) {
        switch keep {
        case .head:
            let room = max(0, limit - bytes.count)
            bytes += chunk.prefix(room)
            droppedBytes += Int64(chunk.count - min(room, chunk.count))
        case .tail:
            bytes += chunk.suffix(limit)
            if bytes.count > limit {
                droppedBytes += Int64(bytes.count - limit)
                bytes.removeFirst(bytes.count - limit)
            }
            droppedBytes += Int64(max(0, chunk.count - limit))
        }
    }

    /// The kept bytes as UTF-8 (invalid sequences replaced), with an ellipsis where bytes were dropped.
    public var text: String {
        let body = String(decoding: bytes, as: UTF8.self)
        guard droppedBytes > 0 else { return body }
        return keep == .tail ? "…" + body : body + "…"
    }
}

import Synchronization

/// A session's `DiskBounds` at run time: what the writer consults before each frame.
///
/// The folder's bytes outside the file being written are measured off the writer thread
/// (`measure`, a directory walk) and published as an atomic the writer reads per frame; the writer
/// adds its own file's size. A rollover or a deletion adjusts the figure at once and invalidates a
/// walk that was under way, so a sealed part is never left out between two walks.
public final class DiskBudget: Sendable {
    public let bounds: DiskBounds
    /// The output folder (what `quota` bounds).
    public let folder: String
    /// Bytes of the folder's files other than the one being written, as last measured or adjusted.
    private let otherBytes = Atomic<Int64>(0)
    private let coordination: Mutex<Coordination>

    private struct Coordination {
        /// File name (in `folder`) being written; a walk leaves it out.
        var activeFile: String
        /// Bumped by every adjustment, so a walk that started before one is dropped.
        var generation: Int64 = 0
        var measured = false
    }

    public init(bounds: DiskBounds, folder: String, activeFile: String) {
        self.bounds = bounds
        self.folder = folder
        coordination = Mutex(Coordination(activeFile: activeFile))
    }

    /// Bytes of the folder outside the active file.
    public var otherFolderBytes: Int64 { otherBytes.load(ordering: .acquiring) }

    /// The writer moved on: `sealedBytes` of the previous file now count among the others.
    public func rolledOver(sealedBytes: Int64, activeFile: String) {
        coordination.withLock {
            $0.activeFile = activeFile
            $0.generation += 1
            otherBytes.add(sealedBytes, ordering: .releasing)
        }
    }

    /// A file of `bytes` was deleted from the folder.
    public func removed(bytes: Int64) {
        coordination.withLock {
            $0.generation += 1
            otherBytes.subtract(bytes, ordering: .releasing)
        }
    }

    /// Walks the folder (no lock held) and publishes what it found, unless an adjustment came meanwhile.
    public func measure() {
        let (name, generation) = coordination.withLock { ($0.activeFile, $0.generation) }
        let bytes = FolderUsage.bytes(in: folder, excluding: name)
        coordination.withLock {
            guard $0.generation == generation else { return }
            otherBytes.store(bytes, ordering: .releasing)
            $0.measured = true
        }
    }

    /// Bytes that may still be written before a bound is reached (negative once crossed); nil without bounds.
    /// - Parameters:
    ///   - freeBytes: free bytes of the file system (statvfs), nil when unknown.
    ///   - activeFileBytes: the size of the file being written.
    public func headroom(freeBytes: Int64?, activeFileBytes: Int64) -> Int64? {
        var room: Int64?
        if let minimum = bounds.minFreeBytes, let freeBytes { room = freeBytes - minimum }
        if let quota = bounds.quotaBytes {
            let left = quota - otherFolderBytes - activeFileBytes
            room = min(room ?? left, left)
        }
        return room
    }

    /// Why `nextBytes` more may not be written, or nil when they may. The reason names the bound.
    public func refusal(freeBytes: Int64?, activeFileBytes: Int64, nextBytes: Int64) -> String? {
        if let minimum = bounds.minFreeBytes, let freeBytes, freeBytes - nextBytes < minimum {
            return "min_free \(ByteSize.describe(minimum)) of the file system of \(folder) reached (\(ByteSize.describe(freeBytes)) free)"
        }
        if let quota = bounds.quotaBytes, otherFolderBytes + activeFileBytes + nextBytes > quota {
            return "quota \(ByteSize.describe(quota)) of \(folder) reached (\(ByteSize.describe(otherFolderBytes + activeFileBytes)) used)"
        }
        return nil
    }
}

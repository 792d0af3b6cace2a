#if canImport(Glibc)
import Glibc
#endif

/// The frame memory of one session: `count` buffers, each its own System V shared-memory segment
/// (or plain memory when MIT-SHM is unavailable), mapped until the pool is released.
///
/// Every page is touched when the pool is made: free slots are reused most recent first, so a slot
/// might otherwise first be touched minutes into a session, under a backlog, and the process would
/// grow by a slot (8 MB at 1080p) then. This way the slots are resident from the session's start, and
/// a memory limit (systemd's MemoryMax) too small for them shows at the start, not hours into a session.
///
/// The capture thread creates it; the writer reads frames out of it after the capture thread may
/// have ended, so the worker keeps the pool alive and only `deinit` unmaps the segments.
final class SlotPool: @unchecked Sendable {
    // @unchecked Sendable: every stored property is immutable after init; the memory behind the
    // pointers is handed between threads slot by slot through the FrameChannel rings (release/acquire).
    /// Start of each slot's pixels.
    let addresses: [UnsafeMutableRawPointer]
    /// System V segment ids, or empty for plain memory.
    let segmentIDs: [Int32]
    /// Bytes per slot.
    let slotBytes: Int

    var usesSharedMemory: Bool { !segmentIDs.isEmpty }
    var count: Int { addresses.count }

    private init(addresses: [UnsafeMutableRawPointer], segmentIDs: [Int32], slotBytes: Int) {
        self.addresses = addresses
        self.segmentIDs = segmentIDs
        self.slotBytes = slotBytes
    }

    /// Creates and maps `count` private segments of `slotBytes` each (not yet removed: the X server must attach first).
    /// - Returns: nil (with every segment already removed) when the system refuses one.
    static func sharedMemory(count: Int, slotBytes: Int) -> (SlotPool?, String?) {
        var addresses: [UnsafeMutableRawPointer] = []
        var ids: [Int32] = []
        for _ in 0..<count {
            let id = shmget(0 /* IPC_PRIVATE */, slotBytes, IPC_CREAT | 0o600)
            guard id >= 0 else {
                let reason = "shmget(\(slotBytes) bytes) failed: \(String(cString: strerror(errno)))"
                release(addresses: addresses, ids: ids)
                return (nil, reason)
            }
            guard let address = shmat(id, nil, 0), address != UnsafeMutableRawPointer(bitPattern: -1) else {
                let reason = "shmat failed: \(String(cString: strerror(errno)))"
                shmctl(id, IPC_RMID, nil)
                release(addresses: addresses, ids: ids)
                return (nil, reason)
            }
            address.initializeMemory(as: UInt8.self, repeating: 0, count: slotBytes)
            addresses.append(address)
            ids.append(id)
        }
        return (SlotPool(addresses: addresses, segmentIDs: ids, slotBytes: slotBytes), nil)
    }

    /// Plain page-aligned memory for the XGetImage fallback.
    static func plainMemory(count: Int, slotBytes: Int) -> SlotPool {
        let addresses = (0..<count).map { _ in
            let address = UnsafeMutableRawPointer.allocate(byteCount: slotBytes, alignment: 4096)
            address.initializeMemory(as: UInt8.self, repeating: 0, count: slotBytes)
            return address
        }
        return SlotPool(addresses: addresses, segmentIDs: [], slotBytes: slotBytes)
    }

    /// Marks every segment for removal: the kernel frees it once the last mapping (ours, the server's) goes,
    /// so nothing leaks even if the process crashes. Call once the X server has attached.
    func markSegmentsForRemoval() {
        for id in segmentIDs { shmctl(id, IPC_RMID, nil) }
    }

    private static func release(addresses: [UnsafeMutableRawPointer], ids: [Int32]) {
        for address in addresses { shmdt(address) }
        for id in ids { shmctl(id, IPC_RMID, nil) }
    }

    deinit {
        if segmentIDs.isEmpty {
            for address in addresses { address.deallocate() }
        } else {
            // Removal is idempotent; it matters only if the server never attached.
            SlotPool.release(addresses: addresses, ids: segmentIDs)
        }
    }
}

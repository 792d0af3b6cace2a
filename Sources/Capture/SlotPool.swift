import RecorderCore
import X11Support

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
    /// The shared-memory segments behind the slots, or empty for plain memory.
    let segments: [SharedMemorySegment]
    /// Bytes per slot.
    let slotBytes: Int

    var usesSharedMemory: Bool { !segments.isEmpty }
    var count: Int { addresses.count }

    private init(addresses: [UnsafeMutableRawPointer], segments: [SharedMemorySegment], slotBytes: Int) {
        self.addresses = addresses
        self.segments = segments
        self.slotBytes = slotBytes
    }

    /// Creates and maps `count` private segments of `slotBytes` each (not yet removed: the X server must attach first).
    /// - Throws: why the system refused one (every segment made so far is released).
    static func sharedMemory(count: Int, slotBytes: Int) throws(RecorderError) -> SlotPool {
        var segments: [SharedMemorySegment] = []
        for _ in 0..<count { segments.append(try SharedMemorySegment(byteCount: slotBytes)) }
        return SlotPool(addresses: segments.map(\.address), segments: segments, slotBytes: slotBytes)
    }

    /// Plain page-aligned memory for the XGetImage fallback.
    static func plainMemory(count: Int, slotBytes: Int) -> SlotPool {
        let addresses = (0..<count).map { _ in
            let address = UnsafeMutableRawPointer.allocate(byteCount: slotBytes, alignment: 4096)
            address.initializeMemory(as: UInt8.self, repeating: 0, count: slotBytes)
            return address
        }
        return SlotPool(addresses: addresses, segments: [], slotBytes: slotBytes)
    }

    deinit {
        // Shared segments unmap themselves when they go.
        if segments.isEmpty {
            for address in addresses { address.deallocate() }
        }
    }
}

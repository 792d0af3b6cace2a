import RecorderCore
#if canImport(Glibc)
import Glibc
#endif

/// One private System V shared-memory segment, mapped into this process until the segment object goes.
///
/// Created zero-filled (every page touched, so it is resident from the start). It stays in the namespace
/// until `markForRemoval`, which callers do once the X server has attached (or refused): from then on the
/// kernel frees it when the last mapping goes, even after a crash.
public final class SharedMemorySegment: @unchecked Sendable {
    // @unchecked Sendable: every stored property is immutable after init; the memory behind `address` is
    // handed between threads by its owners (the capture slots through the FrameChannel rings).
    public let id: Int32
    public let address: UnsafeMutableRawPointer
    public let byteCount: Int

    /// Creates and maps a segment of `byteCount` bytes.
    /// - Throws: the reason (shmget or shmat failing, with errno's text); nothing is left behind.
    public init(byteCount: Int) throws(RecorderError) {
        let id = shmget(0 /* IPC_PRIVATE */, byteCount, IPC_CREAT | 0o600)
        guard id >= 0 else { throw .failed("shmget(\(byteCount) bytes) failed: \(errnoText())") }
        guard let address = shmat(id, nil, 0), address != UnsafeMutableRawPointer(bitPattern: -1) else {
            let reason = errnoText()
            shmctl(id, IPC_RMID, nil)
            throw .failed("shmat failed: \(reason)")
        }
        address.initializeMemory(as: UInt8.self, repeating: 0, count: byteCount)
        self.id = id
        self.address = address
        self.byteCount = byteCount
    }

    /// Removes the segment from the namespace; the memory lives until the last mapping (ours, the server's) goes.
    public func markForRemoval() {
        shmctl(id, IPC_RMID, nil)
    }

    deinit {
        shmdt(address)
        // Removal is idempotent; it matters only if the server never attached.
        shmctl(id, IPC_RMID, nil)
    }
}

import CHDF5Shim
#if canImport(Glibc)
import Glibc
#endif
import RecorderCore

/// A session file held by a descriptor we opened ourselves, which HDF5 reaches only through
/// `/proc/self/fd/N`: whatever is later renamed or symlinked over the path, HDF5 opens exactly
/// this inode.
///
/// Creation is `O_CREAT | O_EXCL | O_NOFOLLOW`; an open for writing is `O_NOFOLLOW`; every open is
/// `O_NONBLOCK` (a FIFO must not block us) and accepts only a regular file. The writer holds an OFD write lock on its
/// descriptor for the whole session, so `recover` can tell a live file from one whose writer died
/// (OFD locks are independent of the `flock` HDF5 takes on its own descriptor).
final class PinnedFile {
    /// Where the file is now; changed only by `SessionFile.moveIntoPlace` (a prepared part renamed).
    var path: String
    let descriptor: Int32
    /// The inode opened, to check that a reopen reached the same file.
    let device: UInt64
    let inode: UInt64

    /// The name HDF5 opens: the kernel resolves it to this descriptor's file, never to the path.
    var hdf5Path: String { "/proc/self/fd/\(descriptor)" }

    private init(path: String, descriptor: Int32) throws(RecorderErrorBox) {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            let saved = errno
            Glibc.close(descriptor)
            throw RecorderErrorBox(message: "cannot stat \(path): \(errnoText(saved))", errno: saved)
        }
        guard info.st_mode & S_IFMT == S_IFREG else {
            Glibc.close(descriptor)
            throw RecorderErrorBox(message: "\(path) is not a regular file", errno: EINVAL)
        }
        self.path = path
        self.descriptor = descriptor
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
    }

    deinit { Glibc.close(descriptor) }

    /// Creates `path` (mode 0600, never replacing anything, never through a symlink) and locks it.
    static func create(path: String) throws(RecorderErrorBox) -> PinnedFile {
        let descriptor = open(path, O_CREAT | O_EXCL | O_NOFOLLOW | O_RDWR | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            let saved = errno
            let why = saved == EEXIST ? "it already exists (a session never replaces a file)" : errnoText(saved)
            throw RecorderErrorBox(message: "cannot create \(path): \(why)", errno: saved)
        }
        let file = try PinnedFile(path: path, descriptor: descriptor)
        guard file.lockForWriting() else {
            unlink(path)
            throw RecorderErrorBox(message: "cannot lock \(path) for writing", errno: EAGAIN)
        }
        return file
    }

    /// Opens an existing regular file; a file opened for writing is never reached through a symlink.
    static func openExisting(path: String, writable: Bool) throws(RecorderErrorBox) -> PinnedFile {
        let descriptor = Glibc.open(path, (writable ? O_RDWR | O_NOFOLLOW : O_RDONLY) | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else {
            let saved = errno
            let why = saved == ELOOP ? "it is a symbolic link" : errnoText(saved)
            throw RecorderErrorBox(message: "cannot open \(path): \(why)", errno: saved)
        }
        return try PinnedFile(path: path, descriptor: descriptor)
    }

    /// F_OFD_SETLK of <fcntl.h>, which Glibc's module only exports under _GNU_SOURCE.
    private static let ofdSetLock: Int32 = 37

    /// Takes the OFD write lock on the whole file; false when another descriptor holds a lock on it.
    func lockForWriting() -> Bool {
        var lock = flock()
        lock.l_type = Int16(F_WRLCK)
        lock.l_whence = Int16(SEEK_SET)
        lock.l_start = 0
        lock.l_len = 0
        return fcntl(descriptor, PinnedFile.ofdSetLock, &lock) == 0
    }

    /// F_OFD_GETLK of <fcntl.h>.
    private static let ofdGetLock: Int32 = 36

    /// True when some descriptor (a live writer) holds a lock on `path`; never follows a symlink.
    static func isLockedByWriter(path: String) -> Bool {
        let descriptor = Glibc.open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else { return false }
        defer { Glibc.close(descriptor) }
        var lock = flock()
        lock.l_type = Int16(F_WRLCK)
        lock.l_whence = Int16(SEEK_SET)
        return fcntl(descriptor, ofdGetLock, &lock) == 0 && lock.l_type != Int16(F_UNLCK)
    }

    /// Opens and closes a spare descriptor on the file while it is still small.
    ///
    /// HDF5's create truncates the file (O_TRUNC), and ext4 (auto_da_alloc) then flushes the file's
    /// delayed allocations at the next close of any descriptor on it: at the seal, that flush of every
    /// dirty page took the writer 20-50 ms per 100 MB at 1080p (a part's rollover). Closed right after
    /// the layout it costs nothing, and the data is written back as usual.
    func settleDelayedAllocation() {
        let spare = Glibc.open(hdf5Path, O_RDONLY | O_CLOEXEC)
        if spare >= 0 { Glibc.close(spare) }
    }

    /// Size on disk now.
    var size: Int64 {
        var info = stat()
        return fstat(descriptor, &info) == 0 ? Int64(info.st_size) : 0
    }

    /// Throws unless the HDF5 file `handle` was opened on this very inode.
    func checkSameFile(_ handle: hid_t) throws(RecorderErrorBox) {
        var raw: UnsafeMutableRawPointer? = nil
        guard H5Fget_vfd_handle(handle, CHDF5Shim_H5P_DEFAULT(), &raw) >= 0, let raw else {
            throw RecorderErrorBox(message: "cannot check which file HDF5 opened for \(path)", errno: 0)
        }
        var info = stat()
        let opened = raw.load(as: Int32.self)
        guard fstat(opened, &info) == 0, UInt64(info.st_dev) == device, UInt64(info.st_ino) == inode else {
            throw RecorderErrorBox(message: "\(path) was replaced while it was being opened", errno: 0)
        }
    }
}

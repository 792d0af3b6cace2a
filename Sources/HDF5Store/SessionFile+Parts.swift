import CHDF5Shim
import CLinuxShim
#if canImport(Glibc)
import Glibc
#endif
import RecorderCore

extension SessionFile {
    /// Renames a part prepared under a hidden name to `finalPath`, never replacing a file there
    /// (RENAME_NOREPLACE). The writer's descriptor and lock stay on the same inode, and `pinned`'s
    /// /proc name (which HDF5 reopens to seal) follows it.
    func moveIntoPlace(_ finalPath: String) throws(RecorderErrorBox) {
        guard CLinuxShim_rename_noreplace(path, finalPath) == 0 else {
            let saved = errno
            let why = saved == EEXIST ? "it already exists (a session never replaces a file)" : errnoText(saved)
            throw RecorderErrorBox(message: "cannot move the next part to \(finalPath): \(why)", errno: saved)
        }
        path = finalPath
        pinned.path = finalPath
    }

    /// Writes `previous_part_last_tick` and starts SWMR writing on a part laid out with `startWriting` false.
    func beginPart(previousPartLastTick: Int64) throws(RecorderErrorBox) {
        try HDF5.writeAttribute(file, SessionSchema.Attribute.Root.previousPartLastTick, int: previousPartLastTick)
        try HDF5.check(H5Fstart_swmr_write(file), "starting SWMR writing on \(path)")
    }

    /// Closes and removes a prepared part that was never used.
    func discard() {
        closeQuietly()
        unlink(path)
    }
}

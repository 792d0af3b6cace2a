import CHDF5Shim
import Foundation
import FrameCodec
import RecorderCore
#if canImport(Glibc)
import Glibc
#endif

/// What `SessionRecovery.recover` found and changed.
public struct RecoveryReport: Sendable, Codable, Equatable {
    public var path: String
    /// True when the file was already sealed by a clean end; it was left untouched.
    public var wasClean: Bool
    /// Rows of /video/frames before and after (rows whose chunk was missing or did not decode are cut).
    public var framesBefore: Int64
    public var framesAfter: Int64
    public var eventsRecovered: Int64
    public var samplesRecovered: Int64
    public var notesRecovered: Int64
    public var bytesBefore: Int64
    public var bytesAfter: Int64
    public var endReason: String

    public init(path: String, wasClean: Bool, framesBefore: Int64, framesAfter: Int64, eventsRecovered: Int64,
                samplesRecovered: Int64, notesRecovered: Int64, bytesBefore: Int64, bytesAfter: Int64, endReason: String) {
        self.path = path
        self.wasClean = wasClean
        self.framesBefore = framesBefore
        self.framesAfter = framesAfter
        self.eventsRecovered = eventsRecovered
        self.samplesRecovered = samplesRecovered
        self.notesRecovered = notesRecovered
        self.bytesBefore = bytesBefore
        self.bytesAfter = bytesAfter
        self.endReason = endReason
    }
}

/// Makes a file left by a killed writer (SIGKILL, power cut) open plainly with every flushed frame.
///
/// A SWMR writer that dies leaves the superblock marked "open for writing" and an end-of-allocation
/// mark older than the file's real end. Recovery opens the file the way `h5clear -s --increment=0`
/// does (clear the marks, skip the EOF check), raises the allocation mark to the real end of file so
/// closing never truncates it, cuts the frame rows whose chunk is missing or does not decode, and
/// writes `end_reason = "recovered"`, `clean_shutdown = 0`. The file never shrinks.
public enum SessionRecovery {
    /// Repairs `path` when it is a recorder session that no live writer holds; anything else is
    /// refused with an error and left byte for byte as it was.
    public static func recover(path: String) throws(RecorderError) -> RecoveryReport {
        do throws(RecorderErrorBox) {
            let pinned = try PinnedFile.openExisting(path: path, writable: true)
            guard pinned.size > 0 else { throw RecorderErrorBox(message: "\(path) is empty: not a recorder session, left as it is", errno: 0) }
            guard pinned.lockForWriting() else {
                throw RecorderErrorBox(message: "\(path) is being written by a running recorder (it holds the file's lock); "
                    + "stop that session instead, the file was left as it is", errno: EAGAIN)
            }
            if let clean = try checkedSession(pinned) { return clean }
            return try repair(pinned, endReason: .recovered, detail: "recovered after the writer stopped without sealing the file", summaryJSON: nil)
        } catch {
            throw error.recorderError
        }
    }

    /// True while a recorder writes `path` (it holds the file's lock): such a file is never repaired,
    /// inspected as damaged or moved.
    public static func isLive(path: String) -> Bool { PinnedFile.isLockedByWriter(path: path) }

    /// Opens the file read-only and checks it is a recorder session: the report of a cleanly sealed
    /// one (left untouched), nil when it needs repair; throws when it is not ours.
    private static func checkedSession(_ pinned: PinnedFile) throws(RecorderErrorBox) -> RecoveryReport? {
        HDF5.prepareThread()
        typealias Root = SessionSchema.Attribute.Root
        let path = pinned.path
        let file = HDF5.openForReading(pinned)
        guard file >= 0 else {
            throw RecorderErrorBox(message: "\(path) does not open as an HDF5 file: not a recoverable session, left as it is", errno: 0)
        }
        defer { H5Fclose(file) }
        guard HDF5.readAttributeText(file, Root.format) == SessionSchema.format else {
            throw RecorderErrorBox(message: "\(path) is not a recorder session (no \(Root.format) = \(SessionSchema.format)), left as it is", errno: 0)
        }
        guard HDF5.readAttributeText(file, Root.cleanShutdown) == "1" else { return nil }
        var count: Int64 = 0
        if HDF5.exists(file, SessionSchema.Video.frames) {
            let frames = H5Dopen2(file, SessionSchema.Video.frames, CHDF5Shim_H5P_DEFAULT())
            if frames >= 0 {
                count = HDF5.rowCount(frames)
                H5Dclose(frames)
            }
        }
        let bytes = pinned.size
        return RecoveryReport(path: path, wasClean: true, framesBefore: count, framesAfter: count, eventsRecovered: 0,
                              samplesRecovered: 0, notesRecovered: 0, bytesBefore: bytes, bytesAfter: bytes,
                              endReason: HDF5.readAttributeText(file, Root.endReason) ?? "")
    }

    /// Opens a file whose writer did not close it, trims what does not decode and writes the end attributes.
    static func repair(_ pinned: PinnedFile, endReason: EndReason, detail: String, summaryJSON: String?) throws(RecorderErrorBox) -> RecoveryReport {
        HDF5.prepareThread()
        let path = pinned.path
        let bytesBefore = pinned.size
        let fapl = try HDF5.latestFormatFileAccess()
        defer { H5Pclose(fapl) }
        try HDF5.check(CHDF5Shim_H5P_set_recovery_access(fapl), "setting recovery access")
        try HDF5.check(H5Pset_metadata_read_attempts(fapl, HDF5.metadataReadAttempts), "bounding metadata read attempts")
        let file = try HDF5.check(H5Fopen(pinned.hdf5Path, CHDF5Shim_H5F_ACC_RDWR(), fapl), "opening \(path) for recovery")
        var fileOpen = true
        defer { if fileOpen { H5Fclose(file) } }
        try pinned.checkSameFile(file)
        // EOA := max(EOA, EOF): closing must not cut off chunks written after the last superblock update.
        try HDF5.check(H5Fincrement_filesize(file, 0), "keeping the file's full length")
        let limit = HDF5.readLimit(fileBytes: bytesBefore)

        var framesBefore: Int64 = 0
        var framesAfter: Int64 = 0
        if HDF5.exists(file, SessionSchema.Video.frames) {
            (framesBefore, framesAfter) = try trimFrames(file, path: path, fileBytes: bytesBefore)
        }
        let events = try trimTrailingEmptyRows(file, SessionSchema.Input.events.path, limit: limit)
        let samples = try trimTrailingEmptyRows(file, SessionSchema.State.samplesPath, limit: limit)
        let notes = try trimTrailingEmptyRows(file, SessionSchema.Log.notes.path, limit: limit)
        _ = try trimTrailingEmptyRows(file, SessionSchema.State.window.path, limit: limit)

        typealias Root = SessionSchema.Attribute.Root
        try HDF5.writeAttribute(file, Root.endReason, string: endReason.rawValue)
        try HDF5.writeAttribute(file, Root.endDetail, string: detail)
        try HDF5.writeAttribute(file, Root.cleanShutdown, int: 0)
        let summary = summaryJSON ?? SessionFile.json([
            "frames": framesAfter, "frames_cut": framesBefore - framesAfter, "input_events": events,
            "state_samples": samples, "notes": notes, "bytes_before_recovery": bytesBefore,
        ])
        try HDF5.writeAttribute(file, Root.summaryJSON, string: summary)
        try HDF5.check(H5Fincrement_filesize(file, 0), "keeping the file's full length")
        fileOpen = false
        try HDF5.check(H5Fclose(file), "closing \(path) after recovery")
        return RecoveryReport(path: path, wasClean: false, framesBefore: framesBefore, framesAfter: framesAfter,
                              eventsRecovered: events, samplesRecovered: samples, notesRecovered: notes,
                              bytesBefore: bytesBefore, bytesAfter: pinned.size, endReason: endReason.rawValue)
    }

    /// Largest frame a file may declare (8K RGB); a bigger extent is refused before allocating.
    static let maximumFrameBytes = 7680 * 4320 * 3

    /// Keeps the longest prefix of frames whose chunks exist and whose last chunk decodes, and cuts every
    /// per-frame dataset to the same length.
    private static func trimFrames(_ file: hid_t, path: String, fileBytes: Int64) throws(RecorderErrorBox) -> (Int64, Int64) {
        let frames = try HDF5.check(H5Dopen2(file, SessionSchema.Video.frames, CHDF5Shim_H5P_DEFAULT()), "opening \(SessionSchema.Video.frames)")
        defer { H5Dclose(frames) }
        let dims = HDF5.dimensions(frames)
        guard dims.count == 4, dims[3] == 3, dims[1] <= 1 << 16, dims[2] <= 1 << 16, dims[0] <= hsize_t(Int64.max) else {
            throw RecorderErrorBox(message: "\(path): \(SessionSchema.Video.frames) has an unexpected shape \(dims)", errno: 0)
        }
        let before = Int64(dims[0])
        let frameBytes = Int(dims[1]) * Int(dims[2]) * 3
        guard frameBytes <= maximumFrameBytes else {
            throw RecorderErrorBox(message: "\(path): frames of \(dims[2])x\(dims[1]) are larger than any recorder writes", errno: 0)
        }
        let video = H5Gopen2(file, SessionSchema.Group.video, CHDF5Shim_H5P_DEFAULT())
        let codecName = video >= 0 ? HDF5.readAttributeText(video, SessionSchema.Attribute.Video.codec) ?? "zstd" : "zstd"
        if video >= 0 { H5Gclose(video) }
        let codec = SessionOptions.Codec(rawValue: codecName) ?? .zstd

        func chunk(_ index: Int64) -> (address: haddr_t, size: Int)? {
            var offset: [hsize_t] = [hsize_t(index), 0, 0, 0]
            var mask: UInt32 = 0
            var address: haddr_t = 0
            var size: hsize_t = 0
            guard H5Dget_chunk_info_by_coord(frames, &offset, &mask, &address, &size) >= 0,
                  address != haddr_t.max, size > 0, size <= UInt64(fileBytes), address <= UInt64(fileBytes) - size else { return nil }
            return (address, Int(size))
        }
        var decoded = [UInt8](repeating: 0, count: frameBytes)
        var stored = [UInt8]()
        func decodes(_ index: Int64) -> Bool {
            guard let info = chunk(index) else { return false }
            if stored.count < info.size { stored = [UInt8](repeating: 0, count: info.size) }
            var offset: [hsize_t] = [hsize_t(index), 0, 0, 0]
            var filters: UInt32 = 0
            guard H5Dread_chunk(frames, CHDF5Shim_H5P_DEFAULT(), &offset, &filters, &stored) >= 0 else { return false }
            return ChunkCodec.decode(codec, stored, count: info.size, into: &decoded, expected: frameBytes)
        }
        // Chunks must all be present up to the cut...
        var keep: Int64 = 0
        while keep < before, chunk(keep) != nil { keep += 1 }
        // ...and the last kept ones must decode (a torn write is at the tail).
        while keep > 0, !decodes(keep - 1) { keep -= 1 }
        let perFrame = SessionSchema.Video.perFrameTables.map(\.path)
        for path in perFrame {
            let dataset = H5Dopen2(file, path, CHDF5Shim_H5P_DEFAULT())
            guard dataset >= 0 else { continue }
            keep = min(keep, HDF5.rowCount(dataset))
            if path == SessionSchema.Video.timestamps.path,
               let last = lastNonZeroRow(dataset, column: nil, limit: HDF5.readLimit(fileBytes: fileBytes)) {
                // Rows whose data never reached the disk read as 0.
                keep = min(keep, last + 1)
            }
            H5Dclose(dataset)
        }
        for path in [SessionSchema.Video.frames] + perFrame {
            let dataset = H5Dopen2(file, path, CHDF5Shim_H5P_DEFAULT())
            guard dataset >= 0 else { continue }
            defer { H5Dclose(dataset) }
            var size = HDF5.dimensions(dataset)
            guard !size.isEmpty, size[0] != hsize_t(keep) else { continue }
            size[0] = hsize_t(keep)
            try HDF5.check(H5Dset_extent(dataset, &size), "cutting \(path) to \(keep) rows")
        }
        return (before, keep)
    }

    /// Index of the last row whose int64 (or compound `t_ns`) is non-zero, -1 when none, nil when the
    /// dataset cannot be read (then nothing is cut).
    private static func lastNonZeroRow(_ dataset: hid_t, column: String?, limit: Int64) -> Int64? {
        // One int64 per row: a dataset of more columns (or a crafted extent) is not read at all.
        guard HDF5.dimensions(dataset).count == 1,
              let count = HDF5.readableElementCount(dataset, elementBytes: 8, limitBytes: limit) else { return nil }
        guard count > 0 else { return -1 }
        var values = [Int64](repeating: 0, count: count)
        let memoryType: hid_t
        if let column {
            memoryType = H5Tcreate(H5T_COMPOUND, 8)
            H5Tinsert(memoryType, column, 0, CHDF5Shim_H5T_NATIVE_INT64())
        } else {
            memoryType = H5Tcopy(CHDF5Shim_H5T_NATIVE_INT64())
        }
        defer { H5Tclose(memoryType) }
        guard H5Dread(dataset, memoryType, CHDF5Shim_H5S_ALL(), CHDF5Shim_H5S_ALL(), CHDF5Shim_H5P_DEFAULT(), &values) >= 0 else {
            return nil
        }
        var last = count - 1
        while last >= 0 && values[last] == 0 { last -= 1 }
        return Int64(last)
    }

    /// Cuts trailing rows whose `t_ns` is 0 (extended but never written); returns the rows kept.
    private static func trimTrailingEmptyRows(_ file: hid_t, _ path: String, limit: Int64) throws(RecorderErrorBox) -> Int64 {
        guard HDF5.exists(file, path) else { return 0 }
        let dataset = H5Dopen2(file, path, CHDF5Shim_H5P_DEFAULT())
        guard dataset >= 0 else { return 0 }
        defer { H5Dclose(dataset) }
        var size = HDF5.dimensions(dataset)
        guard let rows = size.first, rows > 0 else { return 0 }
        guard let last = lastNonZeroRow(dataset, column: SessionSchema.timeColumn, limit: limit) else {
            return Int64(min(rows, hsize_t(Int64.max)))
        }
        let keep = last + 1
        if hsize_t(keep) < rows {
            size[0] = hsize_t(keep)
            try HDF5.check(H5Dset_extent(dataset, &size), "cutting \(path) to \(keep) rows")
        }
        return keep
    }
}

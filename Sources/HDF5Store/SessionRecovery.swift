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
    public static func recover(path: String) throws(RecorderError) -> RecoveryReport {
        guard FileManager.default.fileExists(atPath: path) else { throw .storage("cannot recover \(path): no such file") }
        if let clean = sealedReport(path: path) { return clean }
        do {
            return try repair(path: path, endReason: .recovered, detail: "recovered after the writer stopped without sealing the file", summaryJSON: nil)
        } catch {
            throw error.recorderError
        }
    }

    /// A report for a file that opens plainly and says it was sealed cleanly, else nil.
    private static func sealedReport(path: String) -> RecoveryReport? {
        HDF5.prepareThread()
        let file = H5Fopen(path, CHDF5Shim_H5F_ACC_RDONLY(), CHDF5Shim_H5P_DEFAULT())
        guard file >= 0 else { return nil }
        defer { H5Fclose(file) }
        guard HDF5.readAttributeText(file, SessionSchema.Attribute.Root.cleanShutdown) == "1" else { return nil }
        let frames = H5Dopen2(file, SessionSchema.Video.frames, CHDF5Shim_H5P_DEFAULT())
        let count = frames >= 0 ? Int64(HDF5.dimensions(frames).first ?? 0) : 0
        if frames >= 0 { H5Dclose(frames) }
        let bytes = fileSize(path)
        return RecoveryReport(path: path, wasClean: true, framesBefore: count, framesAfter: count, eventsRecovered: 0,
                              samplesRecovered: 0, notesRecovered: 0, bytesBefore: bytes, bytesAfter: bytes,
                              endReason: HDF5.readAttributeText(file, SessionSchema.Attribute.Root.endReason) ?? "")
    }

    static func fileSize(_ path: String) -> Int64 {
        var info = stat()
        return stat(path, &info) == 0 ? Int64(info.st_size) : 0
    }

    /// Opens a file whose writer did not close it, trims what does not decode and writes the end attributes.
    static func repair(path: String, endReason: EndReason, detail: String, summaryJSON: String?) throws(RecorderErrorBox) -> RecoveryReport {
        HDF5.prepareThread()
        let bytesBefore = fileSize(path)
        let fapl = try HDF5.latestFormatFileAccess()
        defer { H5Pclose(fapl) }
        try HDF5.check(CHDF5Shim_H5P_set_recovery_access(fapl), "setting recovery access")
        let file = try HDF5.check(H5Fopen(path, CHDF5Shim_H5F_ACC_RDWR(), fapl), "opening \(path) for recovery")
        var fileOpen = true
        defer { if fileOpen { H5Fclose(file) } }
        // EOA := max(EOA, EOF): closing must not cut off chunks written after the last superblock update.
        try HDF5.check(H5Fincrement_filesize(file, 0), "keeping the file's full length")

        var framesBefore: Int64 = 0
        var framesAfter: Int64 = 0
        if HDF5.exists(file, SessionSchema.Video.frames) {
            (framesBefore, framesAfter) = try trimFrames(file, path: path, fileBytes: bytesBefore)
        }
        let events = try trimTrailingEmptyRows(file, SessionSchema.Input.events.path)
        let samples = try trimTrailingEmptyRows(file, SessionSchema.State.samplesPath)
        let notes = try trimTrailingEmptyRows(file, SessionSchema.Log.notes.path)
        _ = try trimTrailingEmptyRows(file, SessionSchema.State.window.path)

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
                              bytesBefore: bytesBefore, bytesAfter: fileSize(path), endReason: endReason.rawValue)
    }

    /// Keeps the longest prefix of frames whose chunks exist and whose last chunk decodes, and cuts every
    /// per-frame dataset to the same length.
    private static func trimFrames(_ file: hid_t, path: String, fileBytes: Int64) throws(RecorderErrorBox) -> (Int64, Int64) {
        let frames = try HDF5.check(H5Dopen2(file, SessionSchema.Video.frames, CHDF5Shim_H5P_DEFAULT()), "opening \(SessionSchema.Video.frames)")
        defer { H5Dclose(frames) }
        let dims = HDF5.dimensions(frames)
        guard dims.count == 4 else { return (0, 0) }
        let before = Int64(dims[0])
        let frameBytes = Int(dims[1] * dims[2] * dims[3])
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
                  address != haddr_t.max, size > 0, Int64(address) + Int64(size) <= fileBytes else { return nil }
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
            keep = min(keep, Int64(HDF5.dimensions(dataset).first ?? 0))
            if path == SessionSchema.Video.timestamps.path {
                // Rows whose data never reached the disk read as 0.
                keep = min(keep, lastNonZeroRow(dataset, column: nil) + 1)
            }
            H5Dclose(dataset)
        }
        for path in [SessionSchema.Video.frames] + perFrame {
            let dataset = H5Dopen2(file, path, CHDF5Shim_H5P_DEFAULT())
            guard dataset >= 0 else { continue }
            defer { H5Dclose(dataset) }
            var size = HDF5.dimensions(dataset)
            guard !size.isEmpty, Int64(size[0]) != keep else { continue }
            size[0] = hsize_t(keep)
            try HDF5.check(H5Dset_extent(dataset, &size), "cutting \(path) to \(keep) rows")
        }
        return (before, keep)
    }

    /// Index of the last row whose int64 (or compound `t_ns`) is non-zero, -1 when none.
    private static func lastNonZeroRow(_ dataset: hid_t, column: String?) -> Int64 {
        let count = Int(HDF5.dimensions(dataset).first ?? 0)
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
            return -1
        }
        var last = count - 1
        while last >= 0 && values[last] == 0 { last -= 1 }
        return Int64(last)
    }

    /// Cuts trailing rows whose `t_ns` is 0 (extended but never written); returns the rows kept.
    private static func trimTrailingEmptyRows(_ file: hid_t, _ path: String) throws(RecorderErrorBox) -> Int64 {
        guard HDF5.exists(file, path) else { return 0 }
        let dataset = H5Dopen2(file, path, CHDF5Shim_H5P_DEFAULT())
        guard dataset >= 0 else { return 0 }
        defer { H5Dclose(dataset) }
        var size = HDF5.dimensions(dataset)
        guard let rows = size.first, rows > 0 else { return 0 }
        let keep = lastNonZeroRow(dataset, column: SessionSchema.timeColumn) + 1
        if keep < Int64(rows) {
            size[0] = hsize_t(keep)
            try HDF5.check(H5Dset_extent(dataset, &size), "cutting \(path) to \(keep) rows")
        }
        return keep
    }
}

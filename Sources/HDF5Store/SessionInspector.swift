import CHDF5Shim
import Foundation
import RecorderCore

/// What `recorder inspect --json` prints about one session file.
public struct SessionSummary: Sendable, Codable, Equatable {
    public var path: String
    public var format: String
    public var formatVersion: Int64
    public var recorderVersion: String
    public var startedAtUTC: String
    public var endReason: String
    public var endDetail: String
    public var cleanShutdown: Bool
    /// True when the file is not sealed: still being written, or its writer died (run `recorder recover`).
    public var live: Bool
    public var width: Int
    public var height: Int
    public var fps: Int
    public var codec: String
    public var compressionLevel: Int
    public var keyframeInterval: Int
    public var referencePolicy: String
    public var target: String
    public var frames: Int64
    public var keyframes: Int64
    /// Residual frames whose reference is displaced (format 2's motion reference).
    public var shiftedFrames: Int64
    /// Frames compressed at the fast level, and stored unfiltered, because the compressors were behind.
    public var fastFrames: Int64
    public var unfilteredFrames: Int64
    public var durationSeconds: Double
    /// Schedule slots between the first and last frame that have no frame.
    public var droppedTicks: Int64
    public var storedFrameBytes: Int64
    public var rawFrameBytes: Int64
    public var compressionRatio: Double
    public var inputEvents: Int64
    public var devices: [String]
    /// Per device: kind, clock source, event count and absolute axes (`/input/devices`, `/input/abs_info`).
    public var inputDevices: [DeviceSummary]
    public var stateSamples: Int64
    public var stateFields: [String]
    public var windowChanges: Int64
    public var notes: Int64
    public var fileBytes: Int64
    public var meta: [String: String]
    /// The writer's end-of-session counters (summary_json), when present.
    public var summaryJSON: String
    /// Tick and CLOCK_MONOTONIC time of the first and last stored frame (nil without frames).
    public var firstTick: Int64? = nil
    public var lastTick: Int64? = nil
    public var firstTimestampNs: Int64? = nil
    public var lastTimestampNs: Int64? = nil
    /// Parts of a split session only (root attributes `session_id`, `part_number`,
    /// `previous_part_last_tick`, `part_final`); nil in a whole-session file.
    public var sessionID: String? = nil
    public var partNumber: Int64? = nil
    public var previousPartLastTick: Int64? = nil
    public var partFinal: Bool? = nil
}

/// One input device as `recorder inspect` shows it.
public struct DeviceSummary: Sendable, Codable, Equatable {
    /// One EV_ABS axis: its code and range.
    public struct Axis: Sendable, Codable, Equatable {
        public var code: Int64
        public var min: Int64
        public var max: Int64
        public var resolution: Int64
        public var valueAtOpen: Int64
    }

    public var id: Int64
    public var name: String
    public var kind: String
    /// monotonic, realtime or replay; "" in files written before the column existed.
    public var clockSource: String
    public var events: Int64
    public var axes: [Axis]
}

/// Reads a session file's attributes and dataset sizes without decoding frames.
public enum SessionInspector {
    public static func inspect(path: String) throws(RecorderError) -> SessionSummary {
        HDF5.prepareThread()
        let pinned: PinnedFile
        do { pinned = try PinnedFile.openExisting(path: path, writable: false) } catch { throw error.recorderError }
        let fileBytes = pinned.size
        let limit = HDF5.readLimit(fileBytes: fileBytes)
        let file = HDF5.openForReading(pinned)
        guard file >= 0 else {
            throw .storage("cannot open \(path) as an HDF5 session file (after a crash run `recorder recover \(path)` first)")
        }
        defer { H5Fclose(file) }
        typealias Root = SessionSchema.Attribute.Root
        typealias Video = SessionSchema.Attribute.Video
        guard HDF5.readAttributeText(file, Root.format) == SessionSchema.format else {
            throw .storage("\(path) is an HDF5 file but not a recorder session (no \(Root.format) = \(SessionSchema.format))")
        }
        func attr(_ object: hid_t, _ name: String) -> String { HDF5.readAttributeText(object, name) ?? "" }
        func int(_ object: hid_t, _ name: String) -> Int { Int(attr(object, name)) ?? 0 }
        func rows(_ name: String) -> Int64 {
            guard HDF5.exists(file, name) else { return 0 }
            let d = H5Dopen2(file, name, CHDF5Shim_H5P_DEFAULT())
            guard d >= 0 else { return 0 }
            defer { H5Dclose(d) }
            return HDF5.rowCount(d)
        }

        let video = H5Gopen2(file, SessionSchema.Group.video, CHDF5Shim_H5P_DEFAULT())
        defer { if video >= 0 { H5Gclose(video) } }
        let width = int(video, Video.width), height = int(video, Video.height)
        let frameCount = rows(SessionSchema.Video.frames)
        let references = readInt64(file, SessionSchema.Video.references.path, limit: limit)
        let ticks = readInt64(file, SessionSchema.Video.ticks.path, limit: limit)
        let shifts = readInt64(file, SessionSchema.Video.referenceShifts.path, limit: limit)
        let shifted = stride(from: 0, to: shifts.count - 1, by: 2).filter { shifts[$0] != 0 || shifts[$0 + 1] != 0 }.count
        let timestamps = readInt64(file, SessionSchema.Video.timestamps.path, limit: limit)
        let flags = readInt64(file, SessionSchema.Video.flags.path, limit: limit)
        let fast = flags.filter { UInt32(truncatingIfNeeded: $0) & CapturedFrame.Flags.compressedFast != 0 }.count
        let unfiltered = flags.filter { UInt32(truncatingIfNeeded: $0) & CapturedFrame.Flags.storedUnfiltered != 0 }.count
        var stored: Int64 = 0
        if HDF5.exists(file, SessionSchema.Video.frames) {
            let frames = H5Dopen2(file, SessionSchema.Video.frames, CHDF5Shim_H5P_DEFAULT())
            if frames >= 0 {
                stored = Int64(clamping: H5Dget_storage_size(frames))
                H5Dclose(frames)
            }
        }
        // Every figure below comes from the file: computed so that no value can overflow.
        let raw: Int64 = {
            guard width > 0, height > 0 else { return 0 }
            let pixels = Int64(width).multipliedReportingOverflow(by: Int64(height))
            let frame = pixels.partialValue.multipliedReportingOverflow(by: 3)
            let total = frame.partialValue.multipliedReportingOverflow(by: frameCount)
            return pixels.overflow || frame.overflow || total.overflow ? 0 : total.partialValue
        }()
        let dropped: Int64 = {
            guard let first = ticks.first, let last = ticks.last, ticks.count > 1 else { return 0 }
            let span = last.subtractingReportingOverflow(first)
            return span.overflow ? 0 : max(0, span.partialValue - Int64(ticks.count) + 1)
        }()
        let duration = timestamps.count > 1 ? (Double(timestamps.last!) - Double(timestamps.first!)) / 1e9 : 0

        var meta: [String: String] = [:]
        if HDF5.exists(file, SessionSchema.Group.meta) {
            let group = H5Gopen2(file, SessionSchema.Group.meta, CHDF5Shim_H5P_DEFAULT())
            if group >= 0 {
                for name in HDF5.attributeNames(group) { meta[name] = attr(group, name) }
                H5Gclose(group)
            }
        }
        return SessionSummary(
            path: path, format: attr(file, Root.format), formatVersion: Int64(attr(file, Root.formatVersion)) ?? 0,
            recorderVersion: attr(file, Root.recorderVersion), startedAtUTC: attr(file, Root.startedAtUTC),
            endReason: attr(file, Root.endReason), endDetail: attr(file, Root.endDetail),
            cleanShutdown: attr(file, Root.cleanShutdown) == "1", live: attr(file, Root.endReason).isEmpty, width: width, height: height,
            fps: int(video, Video.fps), codec: attr(video, Video.codec), compressionLevel: int(video, Video.compressionLevel),
            keyframeInterval: int(video, Video.keyframeInterval), referencePolicy: attr(video, Video.referencePolicy),
            target: attr(video, Video.target), frames: frameCount, keyframes: Int64(references.filter { $0 < 0 }.count),
            shiftedFrames: Int64(shifted), fastFrames: Int64(fast), unfilteredFrames: Int64(unfiltered),
            durationSeconds: duration, droppedTicks: dropped, storedFrameBytes: stored, rawFrameBytes: raw,
            compressionRatio: stored > 0 ? Double(raw) / Double(stored) : 0, inputEvents: rows(SessionSchema.Input.events.path),
            devices: readStrings(file, SessionSchema.Input.devices, member: SessionSchema.Input.deviceName, limit: limit),
            inputDevices: deviceSummaries(file, limit: limit),
            stateSamples: rows(SessionSchema.State.samplesPath), stateFields: memberNames(file, SessionSchema.State.samplesPath),
            windowChanges: rows(SessionSchema.State.window.path), notes: rows(SessionSchema.Log.notes.path),
            fileBytes: fileBytes, meta: meta, summaryJSON: attr(file, Root.summaryJSON),
            firstTick: ticks.first, lastTick: ticks.last, firstTimestampNs: timestamps.first, lastTimestampNs: timestamps.last,
            sessionID: HDF5.readAttributeText(file, Root.sessionID), partNumber: HDF5.readAttributeText(file, Root.partNumber).flatMap { Int64($0) },
            previousPartLastTick: HDF5.readAttributeText(file, Root.previousPartLastTick).flatMap { Int64($0) },
            partFinal: HDF5.readAttributeText(file, Root.partFinal).map { $0 == "1" })
    }

    /// Each device row with its event count (from `/input/events`' device column) and its axes.
    static func deviceSummaries(_ file: hid_t, limit: Int64) -> [DeviceSummary] {
        let table = SessionSchema.Input.devices
        let ids = readIntegers(file, table, member: "id", limit: limit)
        let names = readStrings(file, table, member: SessionSchema.Input.deviceName, limit: limit)
        let kinds = readStrings(file, table, member: "kind", limit: limit)
        let clocks = readStrings(file, table, member: "clock_source", limit: limit)
        var counts: [Int64: Int64] = [:]
        for device in readIntegers(file, SessionSchema.Input.events, member: "device", limit: limit) { counts[device, default: 0] += 1 }
        let abs = SessionSchema.Input.absInfo
        let columns = ["device", "code", "min", "max", "resolution", "value"].map { readIntegers(file, abs, member: $0, limit: limit) }
        let axisCount = columns.map(\.count).min() ?? 0
        return ids.enumerated().map { index, id in
            let axes = (0..<axisCount).filter { columns[0][$0] == id }.map {
                DeviceSummary.Axis(code: columns[1][$0], min: columns[2][$0], max: columns[3][$0], resolution: columns[4][$0],
                                   valueAtOpen: columns[5][$0])
            }
            return DeviceSummary(
                id: id, name: index < names.count ? names[index] : "", kind: index < kinds.count ? kinds[index] : "",
                clockSource: index < clocks.count ? clocks[index] : "", events: counts[id] ?? 0, axes: axes)
        }
    }

    /// `table` opened when it has the column `member` (older files may lack it); the caller
    /// closes the dataset.
    static func openColumn(_ file: hid_t, _ table: SessionSchema.Table, member: String) -> hid_t? {
        guard HDF5.exists(file, table.path) else { return nil }
        let dataset = H5Dopen2(file, table.path, CHDF5Shim_H5P_DEFAULT())
        guard dataset >= 0 else { return nil }
        let stored = H5Dget_type(dataset)
        let present = H5Tget_member_index(stored, member) >= 0
        H5Tclose(stored)
        guard present else {
            H5Dclose(dataset)
            return nil
        }
        return dataset
    }

    /// The integer column `member` of every row of `table`, converted to int64 by HDF5; empty when
    /// the table or the column is missing (older files).
    static func readIntegers(_ file: hid_t, _ table: SessionSchema.Table, member: String, limit: Int64) -> [Int64] {
        guard let dataset = openColumn(file, table, member: member) else { return [] }
        defer { H5Dclose(dataset) }
        // Every element is read (H5S_ALL), so the buffer is sized by all of them, not by the rows.
        guard let count = HDF5.readableElementCount(dataset, elementBytes: 8, limitBytes: limit), count > 0 else { return [] }
        let memoryType = H5Tcreate(H5T_COMPOUND, 8)
        H5Tinsert(memoryType, member, 0, CHDF5Shim_H5T_NATIVE_INT64())
        defer { H5Tclose(memoryType) }
        var values = [Int64](repeating: 0, count: count)
        guard H5Dread(dataset, memoryType, CHDF5Shim_H5S_ALL(), CHDF5Shim_H5S_ALL(), CHDF5Shim_H5P_DEFAULT(), &values) >= 0 else { return [] }
        return values
    }

    /// Every element of an integer dataset, row after row.
    static func readInt64(_ file: hid_t, _ path: String, limit: Int64) -> [Int64] {
        guard HDF5.exists(file, path) else { return [] }
        let dataset = H5Dopen2(file, path, CHDF5Shim_H5P_DEFAULT())
        guard dataset >= 0 else { return [] }
        defer { H5Dclose(dataset) }
        guard let count = HDF5.readableElementCount(dataset, elementBytes: 8, limitBytes: limit), count > 0 else { return [] }
        var values = [Int64](repeating: 0, count: count)
        guard H5Dread(dataset, CHDF5Shim_H5T_NATIVE_INT64(), CHDF5Shim_H5S_ALL(), CHDF5Shim_H5S_ALL(), CHDF5Shim_H5P_DEFAULT(), &values) >= 0 else {
            return []
        }
        return values
    }

    /// The fixed-string column `member` of every row of `table`.
    static func readStrings(_ file: hid_t, _ table: SessionSchema.Table, member: String, limit: Int64) -> [String] {
        guard let column = table.layout.columns.first(where: { $0.name == member }), case .string(let size) = column.kind,
              let dataset = openColumn(file, table, member: member) else { return [] }
        defer { H5Dclose(dataset) }
        // Every element is read (H5S_ALL), so the buffer is sized by all of them, not by the rows.
        guard let count = HDF5.readableElementCount(dataset, elementBytes: size, limitBytes: limit), count > 0 else { return [] }
        let memoryType = H5Tcreate(H5T_COMPOUND, size)
        let stringType = HDF5.fixedString(size)
        H5Tinsert(memoryType, member, 0, stringType)
        H5Tclose(stringType)
        defer { H5Tclose(memoryType) }
        var bytes = [UInt8](repeating: 0, count: count * size)
        guard H5Dread(dataset, memoryType, CHDF5Shim_H5S_ALL(), CHDF5Shim_H5S_ALL(), CHDF5Shim_H5P_DEFAULT(), &bytes) >= 0 else { return [] }
        return (0..<count).map { i in String(decoding: bytes[(i * size)..<((i + 1) * size)].prefix { $0 != 0 }, as: UTF8.self) }
    }

    static func memberNames(_ file: hid_t, _ path: String) -> [String] {
        guard HDF5.exists(file, path) else { return [] }
        let dataset = H5Dopen2(file, path, CHDF5Shim_H5P_DEFAULT())
        guard dataset >= 0 else { return [] }
        defer { H5Dclose(dataset) }
        let type = H5Dget_type(dataset)
        defer { H5Tclose(type) }
        let count = H5Tget_nmembers(type)
        guard count > 0 else { return [] }
        return (0..<UInt32(count)).compactMap { i in
            guard let name = H5Tget_member_name(type, i) else { return nil }
            defer { H5free_memory(name) }
            return String(cString: name)
        }
    }
}

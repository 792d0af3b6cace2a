import CX11Shim
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import RecorderCore

/// One open session file in the layout of docs/FORMAT.md, owned by the writer thread.
///
/// Every group, dataset and attribute is created in `create` before SWMR writing starts; afterwards
/// only datasets grow and existing attributes are left alone until `seal` reopens the file plainly.
final class SessionFile {
    /// Format 1, or 2 when residuals may follow motion (`/video/reference_shift`, see docs/FORMAT.md).
    static func formatVersion(_ options: SessionOptions) -> Int64 { options.motionReference ? 2 : 1 }

    let path: String
    private(set) var file: hid_t
    private var groups: [hid_t] = []
    private let frames: hid_t
    private let frameShape: (height: Int, width: Int)
    let timestamps: AppendableTable
    let ticks: AppendableTable
    let references: AppendableTable
    let cursors: AppendableTable
    let origins: AppendableTable
    let flags: AppendableTable
    /// (dx, dy) per frame, only in format 2.
    let referenceShifts: AppendableTable?
    let events: AppendableTable
    let devices: AppendableTable
    let capabilities: AppendableTable
    let keysHeld: AppendableTable
    let samples: AppendableTable
    let windows: AppendableTable
    let notes: AppendableTable
    private var tables: [AppendableTable] {
        [timestamps, ticks, references, cursors, origins, flags, events, devices, capabilities, keysHeld, samples, windows, notes]
            + (referenceShifts.map { [$0] } ?? [])
    }
    private(set) var framesWritten: Int64 = 0
    /// True once `H5Fstart_swmr_write` succeeded: no object or attribute may be created after it.
    private(set) var swmrStarted = false
    private var isOpen = true

    /// Creates the file exclusively (mode 0600, never replacing anything), lays out every object and
    /// starts SWMR writing. On failure nothing is left at `path`.
    init(configuration: WriterConfiguration) throws(RecorderErrorBox) {
        HDF5.prepareThread()
        path = configuration.path
        let descriptor = open(path, O_CREAT | O_EXCL | O_NOFOLLOW | O_WRONLY | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            let saved = errno
            let why = saved == EEXIST ? "it already exists (a session never replaces a file)" : errnoText(saved)
            throw RecorderErrorBox(message: "cannot create \(path): \(why)", errno: saved)
        }
        Glibc.close(descriptor)
        var created: hid_t = -1
        var made: [AppendableTable] = []
        var madeGroups: [hid_t] = []
        var framesDataset: hid_t = -1
        do {
            let fapl = try HDF5.latestFormatFileAccess()
            defer { H5Pclose(fapl) }
            created = try HDF5.check(H5Fcreate(path, CX11Shim_H5F_ACC_TRUNC(), CX11Shim_H5P_DEFAULT(), fapl), "creating \(path)")
            let options = configuration.options
            let geometry = configuration.geometry
            try SessionFile.writeRootAttributes(created, configuration)

            func group(_ name: String) throws(RecorderErrorBox) -> hid_t {
                let g = try HDF5.check(H5Gcreate2(created, name, CX11Shim_H5P_DEFAULT(), CX11Shim_H5P_DEFAULT(), CX11Shim_H5P_DEFAULT()),
                                       "creating group \(name)")
                madeGroups.append(g)
                return g
            }
            func table(_ path: String, _ layout: RowLayout, chunk: Int, buffer: Int) throws(RecorderErrorBox) -> AppendableTable {
                let t = try AppendableTable(location: created, path: path, layout: layout, chunkRows: chunk, bufferRows: buffer)
                made.append(t)
                return t
            }

            let video = try group("video")
            try HDF5.writeAttribute(video, "fps", int: Int64(options.fps))
            try HDF5.writeAttribute(video, "width", int: Int64(geometry.width))
            try HDF5.writeAttribute(video, "height", int: Int64(geometry.height))
            try HDF5.writeAttribute(video, "codec", string: options.codec.rawValue)
            try HDF5.writeAttribute(video, "compression_level", int: Int64(options.compressionLevel))
            try HDF5.writeAttribute(video, "keyframe_interval", int: Int64(options.keyframeInterval))
            try HDF5.writeAttribute(video, "reference_policy", string: configuration.referencePolicy.rawValue)
            try HDF5.writeAttribute(video, "target", string: geometry.target)
            try HDF5.writeAttribute(video, "shared_memory", int: geometry.usesSharedMemory ? 1 : 0)
            try HDF5.writeAttribute(video, "pixel_format", string: "RGB")
            framesDataset = try SessionFile.createFrames(video, geometry: geometry, options: options)
            let perFrame = 1024
            let i64 = RowLayout(plain: .int64)
            timestamps = try table("/video/timestamp_ns", i64, chunk: perFrame, buffer: 256)
            ticks = try table("/video/tick", i64, chunk: perFrame, buffer: 256)
            references = try table("/video/reference", i64, chunk: perFrame, buffer: 256)
            cursors = try table("/video/cursor", RowLayout(plain: .int32, width: 2), chunk: perFrame, buffer: 256)
            origins = try table("/video/origin", RowLayout(plain: .int32, width: 2), chunk: perFrame, buffer: 256)
            flags = try table("/video/flags", RowLayout(plain: .uint32), chunk: perFrame, buffer: 256)
            referenceShifts = options.motionReference
                ? try table("/video/reference_shift", RowLayout(plain: .int32, width: 2), chunk: perFrame, buffer: 256) : nil

            let input = try group("input")
            var inputAttributes = configuration.inputAttributes
            try HDF5.writeAttribute(input, "sources", string: inputAttributes.removeValue(forKey: "sources")
                ?? SessionFile.json(options.inputs.map(\.description)))
            try HDF5.writeAttribute(input, "redact_keys", int: options.redactKeys ? 1 : 0)
            try HDF5.writeAttribute(input, "input_focus", string: inputAttributes.removeValue(forKey: "input_focus") ?? (options.inputFocus ?? ""))
            for (key, value) in inputAttributes.sorted(by: { $0.key < $1.key }) { try HDF5.writeAttribute(input, key, string: value) }
            events = try table("/input/events", SessionFile.eventLayout, chunk: 4096, buffer: 8192)
            devices = try table("/input/devices", SessionFile.deviceLayout, chunk: 16, buffer: 16)
            capabilities = try table("/input/capabilities", SessionFile.capabilityLayout, chunk: 1024, buffer: 1024)
            keysHeld = try table("/input/keys_held_at_start", SessionFile.keyHeldLayout, chunk: 64, buffer: 64)

            let state = try group("state")
            var stateAttributes = configuration.stateAttributes
            try HDF5.writeAttribute(state, "rate_hz", double: options.stateRate)
            try HDF5.writeAttribute(state, "probes_json", string: stateAttributes.removeValue(forKey: "probes_json") ?? "[]")
            try HDF5.writeAttribute(state, "probe_config", string: stateAttributes.removeValue(forKey: "probe_config") ?? "")
            for (key, value) in stateAttributes.sorted(by: { $0.key < $1.key }) { try HDF5.writeAttribute(state, key, string: value) }
            samples = try table("/state/samples", SessionFile.sampleLayout(configuration.stateFields), chunk: 256, buffer: 64)
            windows = try table("/state/window", SessionFile.windowLayout, chunk: 64, buffer: 16)

            _ = try group("log")
            notes = try table("/log/notes", SessionFile.noteLayout, chunk: 64, buffer: 64)

            let meta = try group("meta")
            for entry in options.meta { try HDF5.writeAttribute(meta, entry.key, string: entry.value) }

            try HDF5.check(H5Fstart_swmr_write(created), "starting SWMR writing")
        } catch {
            for t in made { t.close() }
            if framesDataset >= 0 { H5Dclose(framesDataset) }
            for g in madeGroups { H5Gclose(g) }
            if created >= 0 { H5Fclose(created) }
            unlink(path)
            throw error
        }
        file = created
        groups = madeGroups
        frames = framesDataset
        frameShape = (configuration.geometry.height, configuration.geometry.width)
        swmrStarted = true
    }

    deinit { closeQuietly() }

    // MARK: Layout

    static let eventLayout = RowLayout(compound: [
        ("t_ns", .int64), ("device", .uint16), ("type", .uint16), ("code", .uint16), ("value", .int32), ("flags", .uint16),
    ])
    static let deviceLayout = RowLayout(compound: [
        ("id", .uint16), ("name", .string(128)), ("path", .string(256)), ("bus", .uint16), ("vendor", .uint16),
        ("product", .uint16), ("version", .uint16), ("phys", .string(128)), ("uniq", .string(128)), ("kind", .string(16)),
        ("first_seen_ns", .int64),
    ])
    static let capabilityLayout = RowLayout(compound: [("device", .uint16), ("type", .uint16), ("code", .uint16)])
    static let keyHeldLayout = RowLayout(compound: [("device", .uint16), ("code", .uint16)])
    static let windowLayout = RowLayout(compound: [
        ("t_ns", .int64), ("window_id", .uint64), ("title", .string(256)), ("wm_class", .string(128)), ("pid", .int32),
        ("x", .int32), ("y", .int32), ("width", .int32), ("height", .int32),
    ])
    static let noteLayout = RowLayout(compound: [("t_ns", .int64), ("source", .string(16)), ("kind", .string(32)), ("message", .string(256))])

    static func sampleLayout(_ fields: [StateField]) -> RowLayout {
        RowLayout(compound: [("t_ns", .int64)] + fields.map { ($0.name, RowLayout.Kind($0.kind)) })
    }

    private static func createFrames(_ video: hid_t, geometry: FrameGeometry, options: SessionOptions) throws(RecorderErrorBox) -> hid_t {
        let h = hsize_t(geometry.height), w = hsize_t(geometry.width)
        var dims: [hsize_t] = [0, h, w, 3]
        var maxDims: [hsize_t] = [CX11Shim_H5S_UNLIMITED(), h, w, 3]
        var chunk: [hsize_t] = [1, h, w, 3]
        let space = H5Screate_simple(4, &dims, &maxDims)
        defer { H5Sclose(space) }
        let dcpl = H5Pcreate(CX11Shim_H5P_DATASET_CREATE())
        defer { H5Pclose(dcpl) }
        H5Pset_chunk(dcpl, 4, &chunk)
        H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER)
        switch options.codec {
        case .zstd:
            var level = UInt32(max(0, options.compressionLevel))
            try HDF5.check(H5Pset_filter(dcpl, H5Z_filter_t(CX11SHIM_FILTER_ZSTD), UInt32(H5Z_FLAG_MANDATORY), 1, &level), "adding the zstd filter")
        case .lz4:
            var blockSize: UInt32 = 0 // 0: the filter's default; our chunks say their own block size
            try HDF5.check(H5Pset_filter(dcpl, H5Z_filter_t(CX11SHIM_FILTER_LZ4), UInt32(H5Z_FLAG_MANDATORY), 1, &blockSize), "adding the lz4 filter")
        case .none:
            break
        }
        // Chunks are written directly; a chunk cache would only hold copies.
        let dapl = H5Pcreate(CX11Shim_H5P_DATASET_ACCESS())
        defer { H5Pclose(dapl) }
        H5Pset_chunk_cache(dapl, 0, 0, 1.0)
        return try HDF5.check(H5Dcreate2(video, "frames", CX11Shim_H5T_STD_U8LE(), space, CX11Shim_H5P_DEFAULT(), dcpl, dapl),
                              "creating /video/frames")
    }

    private static func writeRootAttributes(_ file: hid_t, _ configuration: WriterConfiguration) throws(RecorderErrorBox) {
        var extra = configuration.rootAttributes
        try HDF5.writeAttribute(file, "format", string: "recorder-session")
        try HDF5.writeAttribute(file, "format_version", int: formatVersion(configuration.options))
        try HDF5.writeAttribute(file, "started_at_utc", string: iso8601(utcNs: configuration.sessionStartNs &+ configuration.monoToUTCNs))
        try HDF5.writeAttribute(file, "mono_to_utc_ns", int: configuration.monoToUTCNs)
        try HDF5.writeAttribute(file, "session_start_ns", int: configuration.sessionStartNs)
        try HDF5.writeAttribute(file, "end_reason", string: "")
        try HDF5.writeAttribute(file, "end_detail", string: "")
        try HDF5.writeAttribute(file, "clean_shutdown", int: 0)
        try HDF5.writeAttribute(file, "recorder_version", string: extra.removeValue(forKey: "recorder_version") ?? "unknown")
        let optionsJSON = (try? JSONEncoder().encode(configuration.options)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        try HDF5.writeAttribute(file, "options_json", string: extra.removeValue(forKey: "options_json") ?? optionsJSON)
        try HDF5.writeAttribute(file, "summary_json", string: "")
        for (key, value) in extra.sorted(by: { $0.key < $1.key }) { try HDF5.writeAttribute(file, key, string: value) }
    }

    /// `2026-11-23T09:10:11.123Z`.
    static func iso8601(utcNs: Int64) -> String {
        var seconds = time_t(utcNs / 1_000_000_000)
        let millis = Int((utcNs % 1_000_000_000) / 1_000_000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ v: Int32, _ n: Int) -> String { String(repeating: "0", count: max(0, n - String(v).count)) + String(v) }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(millis), 3))Z"
    }

    static func json<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "null"
    }

    // MARK: Appending

    /// Appends one encoded frame chunk and its per-frame rows.
    func appendFrame(_ frame: CapturedFrame, _ encoded: FrameEncoder.Encoded) throws(RecorderErrorBox) {
        let index = hsize_t(framesWritten)
        var size: [hsize_t] = [index + 1, hsize_t(frameShape.height), hsize_t(frameShape.width), 3]
        try HDF5.check(H5Dset_extent(frames, &size), "extending /video/frames")
        var offset: [hsize_t] = [index, 0, 0, 0]
        try HDF5.check(H5Dwrite_chunk(frames, CX11Shim_H5P_DEFAULT(), 0, &offset, encoded.size, encoded.bytes),
                       "writing frame \(index)")
        framesWritten += 1
        try timestamps.append { $0.setElement(0, frame.timestampNs) }
        try ticks.append { $0.setElement(0, frame.tick) }
        try references.append { $0.setElement(0, encoded.reference) }
        try cursors.append { $0.setElement(0, frame.cursorX); $0.setElement(1, frame.cursorY) }
        try origins.append { $0.setElement(0, frame.originX); $0.setElement(1, frame.originY) }
        try flags.append { $0.setElement(0, frame.flags) }
        try referenceShifts?.append { $0.setElement(0, encoded.shift.dx); $0.setElement(1, encoded.shift.dy) }
    }

    @inline(__always)
    func appendEvent(_ event: InputEvent) throws(RecorderErrorBox) {
        try events.append { row in
            row.set(0, event.tNs); row.set(1, event.device); row.set(2, event.type)
            row.set(3, event.code); row.set(4, event.value); row.set(5, event.flags)
        }
    }

    func appendDevice(_ device: InputDeviceInfo) throws(RecorderErrorBox) {
        try devices.append { row in
            row.set(0, device.id); row.set(1, string: device.name); row.set(2, string: device.path)
            row.set(3, device.bus); row.set(4, device.vendor); row.set(5, device.product); row.set(6, device.version)
            row.set(7, string: device.phys); row.set(8, string: device.uniq); row.set(9, string: device.kind)
            row.set(10, device.firstSeenNs)
        }
        for (type, codes) in device.capabilities.sorted(by: { $0.key < $1.key }) {
            for code in codes.sorted() {
                try capabilities.append { row in row.set(0, device.id); row.set(1, type); row.set(2, code) }
            }
        }
        for code in device.keysHeldAtStart {
            try keysHeld.append { row in row.set(0, device.id); row.set(1, code) }
        }
    }

    func appendSample(_ sample: StateSample) throws(RecorderErrorBox) {
        let fieldCount = samples.layout.columns.count - 1
        try samples.append { row in
            row.set(0, sample.tNs)
            for i in 0..<fieldCount { row.set(i + 1, number: i < sample.values.count ? sample.values[i] : .nan) }
        }
    }

    func appendWindow(_ window: WindowSnapshot) throws(RecorderErrorBox) {
        try windows.append { row in
            row.set(0, window.tNs); row.set(1, window.windowID); row.set(2, string: window.title)
            row.set(3, string: window.wmClass); row.set(4, window.pid); row.set(5, window.x); row.set(6, window.y)
            row.set(7, window.width); row.set(8, window.height)
        }
    }

    func appendNote(_ note: SessionNote) throws(RecorderErrorBox) {
        try notes.append { row in
            row.set(0, note.tNs); row.set(1, string: note.source); row.set(2, string: note.kind); row.set(3, string: note.message)
        }
    }

    /// Writes every buffered row (the per-frame datasets catch up with /video/frames).
    func writePending() throws(RecorderErrorBox) {
        for table in tables { try table.writePending() }
    }

    /// Writes buffered rows and makes everything durable for SWMR readers and crash recovery.
    func flush() throws(RecorderErrorBox) {
        try writePending()
        try HDF5.check(H5Dflush(frames), "flushing /video/frames")
        for table in tables { try table.flush() }
        try HDF5.check(H5Fflush(file, H5F_SCOPE_GLOBAL), "flushing \(path)")
    }

    /// Size of the file on disk.
    var fileBytes: Int64 {
        var info = stat()
        return stat(path, &info) == 0 ? Int64(info.st_size) : 0
    }

    /// Closes every object and the file.
    func close() throws(RecorderErrorBox) {
        guard isOpen else { return }
        isOpen = false
        for table in tables { table.close() }
        H5Dclose(frames)
        for g in groups { H5Gclose(g) }
        let status = H5Fclose(file)
        file = -1
        try HDF5.check(status, "closing \(path)")
    }

    /// After a write error: drop buffered rows and close without caring for failures.
    func closeQuietly() {
        for table in tables { table.discardPending() }
        let handle = file
        if (try? close()) == nil, handle >= 0, H5Iis_valid(handle) > 0 {
            // A close that could not flush (ENOSPC) keeps the file open inside the library; drop it so a
            // later recovery opens the file from disk, not the library's stale copy.
            while H5Iis_valid(handle) > 0 && H5Idec_ref(handle) > 0 {}
        }
    }

    /// Reopens the closed file without SWMR and writes the final root attributes.
    static func seal(path: String, endReason: EndReason, detail: String?, cleanShutdown: Bool, summaryJSON: String) throws(RecorderErrorBox) {
        HDF5.prepareThread()
        let fapl = try HDF5.latestFormatFileAccess()
        defer { H5Pclose(fapl) }
        let file = try HDF5.check(H5Fopen(path, CX11Shim_H5F_ACC_RDWR(), fapl), "reopening \(path) to seal it")
        var closed = false
        defer { if !closed { H5Fclose(file) } }
        try HDF5.writeAttribute(file, "end_reason", string: endReason.rawValue)
        try HDF5.writeAttribute(file, "end_detail", string: detail ?? "")
        try HDF5.writeAttribute(file, "clean_shutdown", int: cleanShutdown ? 1 : 0)
        try HDF5.writeAttribute(file, "summary_json", string: summaryJSON)
        closed = true
        try HDF5.check(H5Fclose(file), "closing \(path) after sealing")
    }
}

import CHDF5Shim
import Foundation
#if canImport(Glibc)
import FrameCodec
import Glibc
#endif
import RecorderCore

/// One open session file in the layout of docs/FORMAT.md, owned by the writer thread.
///
/// Every group, dataset and attribute is created in `create` before SWMR writing starts; afterwards
/// only datasets grow and existing attributes are left alone until `seal` reopens the file plainly.
final class SessionFile {
    /// Format 1, or 2 when residuals may follow motion (`/video/reference_shift`, see docs/FORMAT.md).
    static func formatVersion(_ options: SessionOptions) -> Int64 { options.usesMotionReference ? 2 : 1 }

    /// Where the file is; a prepared part moves once, from its hidden name into place (`moveIntoPlace`).
    var path: String
    /// The descriptor that created the file; its OFD lock marks the file live until the writer ends.
    let pinned: PinnedFile
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
    let absInfo: AppendableTable
    let stateAtOpen: AppendableTable
    let samples: AppendableTable
    let windows: AppendableTable
    let notes: AppendableTable
    private var tables: [AppendableTable] {
        [timestamps, ticks, references, cursors, origins, flags, events, devices, capabilities, keysHeld, absInfo, stateAtOpen,
         samples, windows, notes]
            + (referenceShifts.map { [$0] } ?? [])
    }
    private(set) var framesWritten: Int64 = 0
    private var isOpen = true

    /// Which part of a split session a file is (root attributes `session_id`, `part_number`).
    struct PartIdentity {
        var sessionID: String
        var number: Int
    }

    /// Creates the file exclusively (mode 0600, never replacing anything), lays out every object and
    /// starts SWMR writing. On failure nothing is left at `path`.
    /// - Parameters:
    ///   - path: where to create it (default `configuration.path`).
    ///   - part: set for a part of a split session: its part attributes are written too.
    ///   - startWriting: false lays the file out without starting SWMR (a part prepared ahead;
    ///     `beginPart` starts it once the previous part's last tick is known).
    init(configuration: WriterConfiguration, path: String? = nil, part: PartIdentity? = nil, startWriting: Bool = true) throws(RecorderErrorBox) {
        HDF5.prepareThread()
        let path = path ?? configuration.path
        self.path = path
        // HDF5 creates through the descriptor's /proc name: a symlink swapped in at `path` after the
        // exclusive create is never followed.
        pinned = try PinnedFile.create(path: path)
        var created: hid_t = -1
        var made: [AppendableTable] = []
        var madeGroups: [hid_t] = []
        var framesDataset: hid_t = -1
        do {
            let fapl = try HDF5.latestFormatFileAccess()
            defer { H5Pclose(fapl) }
            created = try HDF5.check(H5Fcreate(pinned.hdf5Path, CHDF5Shim_H5F_ACC_TRUNC(), CHDF5Shim_H5P_DEFAULT(), fapl), "creating \(path)")
            try pinned.checkSameFile(created)
            pinned.settleDelayedAllocation()
            let options = configuration.options
            let geometry = configuration.geometry
            try SessionFile.writeRootAttributes(created, configuration)
            if let part {
                typealias Root = SessionSchema.Attribute.Root
                try HDF5.writeAttribute(created, Root.sessionID, string: part.sessionID)
                try HDF5.writeAttribute(created, Root.partNumber, int: Int64(part.number))
                try HDF5.writeAttribute(created, Root.previousPartLastTick, int: -1)
                try HDF5.writeAttribute(created, Root.partFinal, int: 0)
            }

            func group(_ name: String) throws(RecorderErrorBox) -> hid_t {
                let g = try HDF5.check(H5Gcreate2(created, name, CHDF5Shim_H5P_DEFAULT(), CHDF5Shim_H5P_DEFAULT(), CHDF5Shim_H5P_DEFAULT()),
                                       "creating group \(name)")
                madeGroups.append(g)
                return g
            }
            func table(_ schema: SessionSchema.Table) throws(RecorderErrorBox) -> AppendableTable {
                let t = try AppendableTable(location: created, path: schema.path, layout: schema.layout,
                                            chunkRows: schema.chunkRows, bufferRows: schema.bufferRows)
                made.append(t)
                return t
            }

            typealias VideoAttribute = SessionSchema.Attribute.Video
            let video = try group(SessionSchema.Group.video)
            try HDF5.writeAttribute(video, VideoAttribute.fps, int: Int64(options.fps))
            try HDF5.writeAttribute(video, VideoAttribute.width, int: Int64(geometry.width))
            try HDF5.writeAttribute(video, VideoAttribute.height, int: Int64(geometry.height))
            try HDF5.writeAttribute(video, VideoAttribute.codec, string: options.codec.rawValue)
            try HDF5.writeAttribute(video, VideoAttribute.compressionLevel, int: Int64(options.compressionLevel))
            try HDF5.writeAttribute(video, VideoAttribute.fastCompressionLevel,
                                    int: Int64(CompressionGovernor.fastLevel(codec: options.codec, level: options.compressionLevel)))
            try HDF5.writeAttribute(video, VideoAttribute.keyframeInterval, int: Int64(options.keyframeInterval))
            try HDF5.writeAttribute(video, VideoAttribute.referencePolicy, string: configuration.referencePolicy.rawValue)
            try HDF5.writeAttribute(video, VideoAttribute.target, string: geometry.target)
            try HDF5.writeAttribute(video, VideoAttribute.sharedMemory, int: geometry.usesSharedMemory ? 1 : 0)
            try HDF5.writeAttribute(video, VideoAttribute.pixelFormat, string: "RGB")
            framesDataset = try SessionFile.createFrames(created, geometry: geometry, options: options)
            timestamps = try table(SessionSchema.Video.timestamps)
            ticks = try table(SessionSchema.Video.ticks)
            references = try table(SessionSchema.Video.references)
            cursors = try table(SessionSchema.Video.cursors)
            origins = try table(SessionSchema.Video.origins)
            flags = try table(SessionSchema.Video.flags)
            referenceShifts = options.usesMotionReference ? try table(SessionSchema.Video.referenceShifts) : nil

            typealias InputAttribute = SessionSchema.Attribute.Input
            let input = try group(SessionSchema.Group.input)
            var inputAttributes = configuration.inputAttributes
            try HDF5.writeAttribute(input, InputAttribute.sources, string: inputAttributes.removeValue(forKey: InputAttribute.sources)
                ?? SessionFile.json(options.inputs.map(\.description)))
            try HDF5.writeAttribute(input, InputAttribute.redactKeys, int: options.redactKeys ? 1 : 0)
            try HDF5.writeAttribute(input, InputAttribute.inputFocus,
                                    string: inputAttributes.removeValue(forKey: InputAttribute.inputFocus) ?? (options.inputFocus ?? ""))
            for (key, value) in inputAttributes.sorted(by: { $0.key < $1.key }) { try HDF5.writeAttribute(input, key, string: value) }
            events = try table(SessionSchema.Input.events)
            devices = try table(SessionSchema.Input.devices)
            capabilities = try table(SessionSchema.Input.capabilities)
            keysHeld = try table(SessionSchema.Input.keysHeld)
            absInfo = try table(SessionSchema.Input.absInfo)
            stateAtOpen = try table(SessionSchema.Input.stateAtOpen)

            typealias StateAttribute = SessionSchema.Attribute.State
            let state = try group(SessionSchema.Group.state)
            var stateAttributes = configuration.stateAttributes
            try HDF5.writeAttribute(state, StateAttribute.rateHz, double: options.stateRate)
            try HDF5.writeAttribute(state, StateAttribute.probesJSON, string: stateAttributes.removeValue(forKey: StateAttribute.probesJSON) ?? "[]")
            try HDF5.writeAttribute(state, StateAttribute.probeConfig, string: stateAttributes.removeValue(forKey: StateAttribute.probeConfig) ?? "")
            for (key, value) in stateAttributes.sorted(by: { $0.key < $1.key }) { try HDF5.writeAttribute(state, key, string: value) }
            samples = try table(SessionSchema.State.samples(configuration.stateFields))
            windows = try table(SessionSchema.State.window)

            _ = try group(SessionSchema.Group.log)
            notes = try table(SessionSchema.Log.notes)

            let meta = try group(SessionSchema.Group.meta)
            for entry in options.meta { try HDF5.writeAttribute(meta, entry.key, string: entry.value) }

            if startWriting { try HDF5.check(H5Fstart_swmr_write(created), "starting SWMR writing") }
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
    }

    deinit { closeQuietly() }

    // MARK: Layout

    private static func createFrames(_ file: hid_t, geometry: FrameGeometry, options: SessionOptions) throws(RecorderErrorBox) -> hid_t {
        let h = hsize_t(geometry.height), w = hsize_t(geometry.width)
        var dims: [hsize_t] = [0, h, w, 3]
        var maxDims: [hsize_t] = [CHDF5Shim_H5S_UNLIMITED(), h, w, 3]
        var chunk: [hsize_t] = [1, h, w, 3]
        let space = H5Screate_simple(4, &dims, &maxDims)
        defer { H5Sclose(space) }
        let dcpl = H5Pcreate(CHDF5Shim_H5P_DATASET_CREATE())
        defer { H5Pclose(dcpl) }
        H5Pset_chunk(dcpl, 4, &chunk)
        H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER)
        switch options.codec {
        case .zstd:
            var level = UInt32(max(0, options.compressionLevel))
            try HDF5.check(H5Pset_filter(dcpl, H5Z_filter_t(CHDF5SHIM_FILTER_ZSTD), UInt32(H5Z_FLAG_MANDATORY), 1, &level), "adding the zstd filter")
        case .lz4:
            var blockSize: UInt32 = 0 // 0: the filter's default; our chunks say their own block size
            try HDF5.check(H5Pset_filter(dcpl, H5Z_filter_t(CHDF5SHIM_FILTER_LZ4), UInt32(H5Z_FLAG_MANDATORY), 1, &blockSize), "adding the lz4 filter")
        case .none:
            break
        }
        // Chunks are written directly; a chunk cache would only hold copies.
        let dapl = H5Pcreate(CHDF5Shim_H5P_DATASET_ACCESS())
        defer { H5Pclose(dapl) }
        H5Pset_chunk_cache(dapl, 0, 0, 1.0)
        return try HDF5.check(H5Dcreate2(file, SessionSchema.Video.frames, CHDF5Shim_H5T_STD_U8LE(), space, CHDF5Shim_H5P_DEFAULT(), dcpl, dapl),
                              "creating \(SessionSchema.Video.frames)")
    }

    private static func writeRootAttributes(_ file: hid_t, _ configuration: WriterConfiguration) throws(RecorderErrorBox) {
        var extra = configuration.rootAttributes
        typealias Root = SessionSchema.Attribute.Root
        try HDF5.writeAttribute(file, Root.format, string: SessionSchema.format)
        try HDF5.writeAttribute(file, Root.formatVersion, int: formatVersion(configuration.options))
        try HDF5.writeAttribute(file, Root.startedAtUTC, string: MonotonicClock.iso8601(utcNs: configuration.sessionStartNs &+ configuration.monoToUTCNs))
        try HDF5.writeAttribute(file, Root.monoToUTCNs, int: configuration.monoToUTCNs)
        try HDF5.writeAttribute(file, Root.sessionStartNs, int: configuration.sessionStartNs)
        try HDF5.writeAttribute(file, Root.endReason, string: "")
        try HDF5.writeAttribute(file, Root.endDetail, string: "")
        try HDF5.writeAttribute(file, Root.cleanShutdown, int: 0)
        try HDF5.writeAttribute(file, Root.recorderVersion, string: extra.removeValue(forKey: Root.recorderVersion) ?? "unknown")
        let optionsJSON = (try? JSONEncoder().encode(configuration.options)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        try HDF5.writeAttribute(file, Root.optionsJSON, string: extra.removeValue(forKey: Root.optionsJSON) ?? optionsJSON)
        try HDF5.writeAttribute(file, Root.summaryJSON, string: "")
        for (key, value) in extra.sorted(by: { $0.key < $1.key }) { try HDF5.writeAttribute(file, key, string: value) }
    }

    static func json<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "null"
    }

    // MARK: Appending

    /// Appends one encoded frame chunk and its per-frame rows.
    /// Writes one frame's chunk and per-frame rows; `effort` says how the chunk was made (an
    /// unfiltered chunk is written with filter mask 1, and both degraded efforts set their flag bit).
    func appendFrame(_ frame: CapturedFrame, _ encoded: FrameEncoder.Encoded, effort: CompressionEffort = .best) throws(RecorderErrorBox) {
        let index = hsize_t(framesWritten)
        var size: [hsize_t] = [index + 1, hsize_t(frameShape.height), hsize_t(frameShape.width), 3]
        try HDF5.check(H5Dset_extent(frames, &size), "extending \(SessionSchema.Video.frames)")
        var offset: [hsize_t] = [index, 0, 0, 0]
        let filterMask: UInt32 = effort == .unfiltered ? 1 : 0
        try HDF5.check(H5Dwrite_chunk(frames, CHDF5Shim_H5P_DEFAULT(), filterMask, &offset, encoded.size, encoded.bytes),
                       "writing frame \(index)")
        framesWritten += 1
        try timestamps.append { $0.setElement(0, frame.timestampNs) }
        try ticks.append { $0.setElement(0, frame.tick) }
        try references.append { $0.setElement(0, encoded.reference) }
        try cursors.append { $0.setElement(0, frame.cursorX); $0.setElement(1, frame.cursorY) }
        try origins.append { $0.setElement(0, frame.originX); $0.setElement(1, frame.originY) }
        let effortFlag: UInt32 = switch effort {
        case .best: 0
        case .fast: CapturedFrame.Flags.compressedFast
        case .unfiltered: CapturedFrame.Flags.storedUnfiltered
        }
        try flags.append { $0.setElement(0, frame.flags | effortFlag) }
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
            row.set(10, device.firstSeenNs); row.set(11, string: device.clockSource)
        }
        for (type, codes) in device.capabilities.sorted(by: { $0.key < $1.key }) {
            for code in codes.sorted() {
                try capabilities.append { row in row.set(0, device.id); row.set(1, type); row.set(2, code) }
            }
        }
        for code in device.keysHeldAtStart {
            try keysHeld.append { row in row.set(0, device.id); row.set(1, code) }
        }
        for axis in device.absAxes {
            try absInfo.append { row in
                row.set(0, device.id); row.set(1, axis.code); row.set(2, axis.minimum); row.set(3, axis.maximum)
                row.set(4, axis.fuzz); row.set(5, axis.flat); row.set(6, axis.resolution); row.set(7, axis.value)
            }
        }
        for state in device.stateAtOpen {
            try stateAtOpen.append { row in row.set(0, device.id); row.set(1, state.type); row.set(2, state.code); row.set(3, state.value) }
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
        try HDF5.check(H5Dflush(frames), "flushing \(SessionSchema.Video.frames)")
        for table in tables { try table.flush() }
        try HDF5.check(H5Fflush(file, H5F_SCOPE_GLOBAL), "flushing \(path)")
    }

    /// Size of the file on disk.
    var fileBytes: Int64 { pinned.size }

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
    ///
    /// The file is reopened through `pinned`, the descriptor that created it, never by path.
    /// - Parameter partFinal: for a part of a split session, whether it is the session's last part.
    static func seal(_ pinned: PinnedFile, endReason: EndReason, detail: String?, cleanShutdown: Bool, summaryJSON: String,
                     partFinal: Bool? = nil) throws(RecorderErrorBox) {
        HDF5.prepareThread()
        let path = pinned.path
        let fapl = try HDF5.latestFormatFileAccess()
        defer { H5Pclose(fapl) }
        let file = try HDF5.check(H5Fopen(pinned.hdf5Path, CHDF5Shim_H5F_ACC_RDWR(), fapl), "reopening \(path) to seal it")
        var closed = false
        defer { if !closed { H5Fclose(file) } }
        try pinned.checkSameFile(file)
        typealias Root = SessionSchema.Attribute.Root
        try HDF5.writeAttribute(file, Root.endReason, string: endReason.rawValue)
        try HDF5.writeAttribute(file, Root.endDetail, string: detail ?? "")
        try HDF5.writeAttribute(file, Root.cleanShutdown, int: cleanShutdown ? 1 : 0)
        try HDF5.writeAttribute(file, Root.summaryJSON, string: summaryJSON)
        if let partFinal { try HDF5.writeAttribute(file, Root.partFinal, int: partFinal ? 1 : 0) }
        closed = true
        try HDF5.check(H5Fclose(file), "closing \(path) after sealing")
    }
}

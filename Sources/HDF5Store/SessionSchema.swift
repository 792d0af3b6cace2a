import RecorderCore

/// The layout of a session file (docs/FORMAT.md), defined once: groups, tables with their row layouts
/// and chunking, and attribute names. `SessionFile` creates it; `SessionInspector` and `SessionRecovery`
/// read it back through the same names.
enum SessionSchema {
    /// The root `format` attribute of every session file.
    static let format = "recorder-session"
    /// The compound column every event-like table starts with (CLOCK_MONOTONIC nanoseconds); a row
    /// whose `t_ns` reads 0 was extended but never written.
    static let timeColumn = "t_ns"

    /// One appendable dataset: where it lives, what a row holds, how it is chunked and buffered.
    struct Table {
        let path: String
        let layout: RowLayout
        let chunkRows: Int
        let bufferRows: Int
    }

    /// Group paths.
    enum Group {
        static let video = "/video"
        static let input = "/input"
        static let state = "/state"
        static let log = "/log"
        static let meta = "/meta"
    }

    /// `/video`: the frames dataset and one row per frame in each per-frame table.
    enum Video {
        static let frames = "/video/frames"
        private static let perFrameChunk = 1024
        private static func perFrame(_ name: String, _ layout: RowLayout) -> Table {
            Table(path: "/video/\(name)", layout: layout, chunkRows: perFrameChunk, bufferRows: 256)
        }
        static let timestamps = perFrame("timestamp_ns", RowLayout(plain: .int64))
        static let ticks = perFrame("tick", RowLayout(plain: .int64))
        static let references = perFrame("reference", RowLayout(plain: .int64))
        static let cursors = perFrame("cursor", RowLayout(plain: .int32, width: 2))
        static let origins = perFrame("origin", RowLayout(plain: .int32, width: 2))
        static let flags = perFrame("flags", RowLayout(plain: .uint32))
        /// (dx, dy) of the displaced reference, only in format 2.
        static let referenceShifts = perFrame("reference_shift", RowLayout(plain: .int32, width: 2))
        /// Every table with one row per frame: recovery cuts them all to the frames it keeps.
        static let perFrameTables = [timestamps, ticks, references, cursors, origins, flags, referenceShifts]
    }

    /// `/input`: evdev events and the devices they came from.
    enum Input {
        static let events = Table(path: "/input/events", layout: RowLayout(compound: [
            (timeColumn, .int64), ("device", .uint16), ("type", .uint16), ("code", .uint16), ("value", .int32), ("flags", .uint16),
        ]), chunkRows: 4096, bufferRows: 8192)
        /// The device column holding its name (what `inspect` lists).
        static let deviceName = "name"
        static let devices = Table(path: "/input/devices", layout: RowLayout(compound: [
            ("id", .uint16), (deviceName, .string(128)), ("path", .string(256)), ("bus", .uint16), ("vendor", .uint16),
            ("product", .uint16), ("version", .uint16), ("phys", .string(128)), ("uniq", .string(128)), ("kind", .string(16)),
            ("first_seen_ns", .int64), ("clock_source", .string(16)),
        ]), chunkRows: 16, bufferRows: 16)
        static let capabilities = Table(path: "/input/capabilities", layout: RowLayout(compound: [
            ("device", .uint16), ("type", .uint16), ("code", .uint16),
        ]), chunkRows: 1024, bufferRows: 1024)
        static let keysHeld = Table(path: "/input/keys_held_at_start", layout: RowLayout(compound: [
            ("device", .uint16), ("code", .uint16),
        ]), chunkRows: 64, bufferRows: 64)
        /// Range and value at open of every EV_ABS code of each device.
        static let absInfo = Table(path: "/input/abs_info", layout: RowLayout(compound: [
            ("device", .uint16), ("code", .uint16), ("min", .int32), ("max", .int32), ("fuzz", .int32), ("flat", .int32),
            ("resolution", .int32), ("value", .int32),
        ]), chunkRows: 64, bufferRows: 64)
        /// LEDs and switches that were on when each device was opened.
        static let stateAtOpen = Table(path: "/input/state_at_open", layout: RowLayout(compound: [
            ("device", .uint16), ("type", .uint16), ("code", .uint16), ("value", .int32),
        ]), chunkRows: 64, bufferRows: 64)
    }

    /// `/state`: probe samples (one column per configured field) and window changes.
    enum State {
        static let samplesPath = "/state/samples"
        static func samples(_ fields: [StateField]) -> Table {
            Table(path: samplesPath, layout: RowLayout(compound: [(timeColumn, .int64)] + fields.map { ($0.name, RowLayout.Kind($0.kind)) }),
                  chunkRows: 256, bufferRows: 64)
        }
        static let window = Table(path: "/state/window", layout: RowLayout(compound: [
            (timeColumn, .int64), ("window_id", .uint64), ("title", .string(256)), ("wm_class", .string(128)), ("pid", .int32),
            ("x", .int32), ("y", .int32), ("width", .int32), ("height", .int32),
        ]), chunkRows: 64, bufferRows: 16)
    }

    /// `/log`: notes from every thread.
    enum Log {
        static let notes = Table(path: "/log/notes", layout: RowLayout(compound: [
            (timeColumn, .int64), ("source", .string(16)), ("kind", .string(32)), ("message", .string(256)),
        ]), chunkRows: 64, bufferRows: 64)
    }

    /// Attribute names, by the object that carries them.
    enum Attribute {
        /// On the root group.
        enum Root {
            static let format = "format"
            static let formatVersion = "format_version"
            static let startedAtUTC = "started_at_utc"
            static let monoToUTCNs = "mono_to_utc_ns"
            static let sessionStartNs = "session_start_ns"
            static let endReason = "end_reason"
            static let endDetail = "end_detail"
            static let cleanShutdown = "clean_shutdown"
            static let recorderVersion = "recorder_version"
            static let optionsJSON = "options_json"
            static let summaryJSON = "summary_json"
            /// Split sessions only (docs/FORMAT.md, "Parts"): the UUID every part shares, the part's
            /// 1-based number, the previous part's last tick (-1 for part 1), and 1 on the part that ended the session.
            static let sessionID = "session_id"
            static let partNumber = "part_number"
            static let previousPartLastTick = "previous_part_last_tick"
            static let partFinal = "part_final"
        }

        /// On `/video`.
        enum Video {
            static let fps = "fps"
            static let width = "width"
            static let height = "height"
            static let codec = "codec"
            static let compressionLevel = "compression_level"
            static let fastCompressionLevel = "fast_compression_level"
            static let keyframeInterval = "keyframe_interval"
            static let referencePolicy = "reference_policy"
            static let target = "target"
            static let sharedMemory = "shared_memory"
            static let pixelFormat = "pixel_format"
        }

        /// On `/input`.
        enum Input {
            static let sources = "sources"
            static let redactKeys = "redact_keys"
            static let inputFocus = "input_focus"
        }

        /// On `/state`.
        enum State {
            static let rateHz = "rate_hz"
            static let probesJSON = "probes_json"
            static let probeConfig = "probe_config"
        }
    }
}

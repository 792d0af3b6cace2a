import Foundation

/// The JSON file beside a split session's parts (`NAME.manifest.json`): which parts exist, the
/// ticks each holds, whether each is sealed, and what the upload hook made of it.
///
/// One thread of the recording process owns and rewrites it (atomically, see
/// `SessionManifest+Files.swift`); `recorder recover` rewrites it after a crash. Readers take it as
/// hostile: the size is bounded and every field is checked before use.
public struct SessionManifest: Sendable, Equatable, Codable {
    public static let formatName = "recorder-session-manifest"
    public static let currentVersion = 1
    /// A manifest larger than this is refused unread (an 8-hour session split every minute is ~250 KB).
    public static let maxBytes = 16 << 20
    /// Parts a session may have (`partNNNN` names have four digits at least; this bounds readers).
    public static let maxParts = 99_999

    public var format: String
    public var version: Int
    /// Random UUID shared by every part (root attribute `session_id`).
    public var sessionID: String
    /// NAME: the parts are NAME.partNNNN.h5.
    public var name: String
    public var startedAtUTC: String
    /// Root attribute `mono_to_utc_ns` of the session.
    public var monoToUTCNs: Int64
    /// "recording" while the session runs, "ended" once it has ended (cleanly or not), "recovered".
    public var state: String
    public var endReason: String?
    public var endDetail: String?
    public var split: SplitPolicy
    public var parts: [Part]

    /// One part file.
    public struct Part: Sendable, Equatable, Codable {
        /// 1-based.
        public var number: Int
        /// File name, relative to the manifest's folder.
        public var file: String
        /// "recording", "sealed" (closed cleanly), "recovered" (repaired after a crash), "missing".
        public var state: String
        /// Tick of the first and last stored frame; nil while the part has none.
        public var firstTick: Int64?
        public var lastTick: Int64?
        /// The previous part's `lastTick` (root attribute `previous_part_last_tick`; -1 for part 1).
        public var previousPartLastTick: Int64
        public var firstTimestampNs: Int64?
        public var lastTimestampNs: Int64?
        public var frames: Int64
        public var events: Int64
        public var samples: Int64
        public var bytes: Int64
        public var upload: Upload?

        public init(number: Int, file: String, state: String, firstTick: Int64? = nil, lastTick: Int64? = nil,
                    previousPartLastTick: Int64, firstTimestampNs: Int64? = nil, lastTimestampNs: Int64? = nil,
                    frames: Int64 = 0, events: Int64 = 0, samples: Int64 = 0, bytes: Int64 = 0, upload: Upload? = nil) {
            self.number = number
            self.file = file
            self.state = state
            self.firstTick = firstTick
            self.lastTick = lastTick
            self.previousPartLastTick = previousPartLastTick
            self.firstTimestampNs = firstTimestampNs
            self.lastTimestampNs = lastTimestampNs
            self.frames = frames
            self.events = events
            self.samples = samples
            self.bytes = bytes
            self.upload = upload
        }

        enum CodingKeys: String, CodingKey {
            case number, file, state, frames, events, samples, bytes, upload
            case firstTick = "first_tick", lastTick = "last_tick", previousPartLastTick = "previous_part_last_tick"
            case firstTimestampNs = "first_timestamp_ns", lastTimestampNs = "last_timestamp_ns"
        }
    }

    /// What the `on_part_sealed` hook made of one part.
    public struct Upload: Sendable, Equatable, Codable {
        /// "queued", "running", "retrying", "uploaded", "failed" (attempts exhausted), "skipped" (queue full).
        public var state: String
        public var attempts: Int
        public var lastError: String?
        public var finishedAtUTC: String?
        /// True once the part file was deleted after its upload (`delete_uploaded_parts`).
        public var deleted: Bool?

        public init(state: String, attempts: Int = 0, lastError: String? = nil, finishedAtUTC: String? = nil, deleted: Bool? = nil) {
            self.state = state
            self.attempts = attempts
            self.lastError = lastError
            self.finishedAtUTC = finishedAtUTC
            self.deleted = deleted
        }

        enum CodingKeys: String, CodingKey {
            case state, attempts, deleted
            case lastError = "last_error", finishedAtUTC = "finished_at_utc"
        }
    }

    public init(sessionID: String, name: String, startedAtUTC: String, monoToUTCNs: Int64, split: SplitPolicy,
                state: String = "recording", parts: [Part] = []) {
        format = Self.formatName
        version = Self.currentVersion
        self.sessionID = sessionID
        self.name = name
        self.startedAtUTC = startedAtUTC
        self.monoToUTCNs = monoToUTCNs
        self.state = state
        self.split = split
        self.parts = parts
    }

    enum CodingKeys: String, CodingKey {
        case format, version, name, state, split, parts
        case sessionID = "session_id", startedAtUTC = "started_at_utc", monoToUTCNs = "mono_to_utc_ns"
        case endReason = "end_reason", endDetail = "end_detail"
    }

    // MARK: Names

    /// `/dir/NAME.h5` → `NAME` (the output path given to `record` or made by the daemon).
    public static func sessionName(output: String) -> String {
        let file = (output as NSString).lastPathComponent
        return file.hasSuffix(".h5") ? String(file.dropLast(3)) : file
    }

    /// `NAME.part0001.h5`.
    public static func partFileName(session name: String, number: Int) -> String {
        let digits = String(number)
        return "\(name).part\(String(repeating: "0", count: max(0, 4 - digits.count)))\(digits).h5"
    }

    /// `NAME.manifest.json`.
    public static func manifestFileName(session name: String) -> String { "\(name).manifest.json" }

    /// The manifest's path for a session recorded with `--output output`.
    public static func manifestPath(output: String) -> String {
        let folder = (output as NSString).deletingLastPathComponent
        let file = manifestFileName(session: sessionName(output: output))
        return folder.isEmpty ? file : (folder as NSString).appendingPathComponent(file)
    }

    /// The path of part `number` for a session recorded with `--output output`.
    public static func partPath(output: String, number: Int) -> String {
        let folder = (output as NSString).deletingLastPathComponent
        let file = partFileName(session: sessionName(output: output), number: number)
        return folder.isEmpty ? file : (folder as NSString).appendingPathComponent(file)
    }

    /// (NAME, number) when `file` is a part's name, else nil.
    public static func parsePartFileName(_ file: String) -> (session: String, number: Int)? {
        guard file.hasSuffix(".h5") else { return nil }
        let stem = file.dropLast(3)
        guard let dot = stem.range(of: ".part", options: .backwards) else { return nil }
        let digits = stem[dot.upperBound...]
        guard digits.count >= 4, digits.count <= 5, digits.allSatisfy({ $0.isASCII && $0.isNumber }),
              let number = Int(digits), number >= 1, number <= maxParts, dot.lowerBound > stem.startIndex else { return nil }
        return (String(stem[..<dot.lowerBound]), number)
    }
}

import Foundation
import RecorderCore

/// Session options given as named fields: in a `start` request and in the daemon's config file.
///
/// Field names are the long command-line names without dashes. Dashes and underscores are ignored
/// when matching, so `keyframe-interval`, `keyframe_interval` and `keyframeinterval` are one field.
public enum SessionOptionFields {
    /// Every accepted field, normalized, with the type error messages name.
    public static let fields: [String: String] = [
        "display": "a string such as \":0\"",
        "fps": "an integer",
        "region": "a string \"X,Y,W,H\" or a list of 4 integers",
        "window": "a string",
        "codec": "one of \"zstd\", \"lz4\", \"none\"",
        "compressionlevel": "an integer",
        "keyframeinterval": "an integer",
        "motionreference": "a boolean",
        "input": "a string or a list of strings (auto, none, replay:PATH[,EVENTS_PATH])",
        "stateconfig": "a string (absolute path of a probe TOML file)",
        "staterate": "a number",
        "meta": "an object of strings or a list of \"KEY=VALUE\" strings",
        "redactkeys": "a boolean",
        "inputfocus": "a string",
        "duration": "a number of seconds",
        "splitevery": "a number of seconds or a duration string such as \"5m\"",
        "splitsize": "an integer number of bytes or a size string such as \"500M\"",
    ]

    /// `key` lowercased without `-` and `_`.
    public static func normalize(_ key: String) -> String {
        String(key.lowercased().unicodeScalars.filter { $0 != "-" && $0 != "_" }.map(Character.init))
    }

    /// True when `key` names a session option.
    public static func isSessionOption(_ key: String) -> Bool { fields[normalize(key)] != nil }

    /// Sets one field on `options`.
    /// - Parameters:
    ///   - key: the field name as given (used in messages).
    ///   - baseDirectory: relative paths are resolved against it; nil refuses relative paths (requests:
    ///     the daemon's working directory means nothing to a client).
    /// - Throws: `ControlError.badRequest` naming the field and what it must be.
    public static func apply(
        _ key: String, _ value: JSONValue, to options: inout SessionOptions, baseDirectory: String?
    ) throws(ControlError) {
        let name = normalize(key)
        guard let expected = fields[name] else {
            throw .badRequest("unknown session option '\(key)'; known: \(fields.keys.sorted().joined(separator: ", "))")
        }
        func wrongType() -> ControlError { .badRequest("'\(key)' must be \(expected), got \(value.kindName)") }
        func string() throws(ControlError) -> String {
            guard let text = value.stringValue else { throw wrongType() }
            return text
        }
        func integer() throws(ControlError) -> Int {
            guard let number = value.intValue, let result = Int(exactly: number) else { throw wrongType() }
            return result
        }
        func number() throws(ControlError) -> Double {
            guard let number = value.doubleValue else { throw wrongType() }
            return number
        }
        func path(_ text: String) throws(ControlError) -> String {
            guard !text.isEmpty else { throw .badRequest("'\(key)' needs a non-empty path") }
            if text.hasPrefix("/") { return text }
            guard let baseDirectory else {
                throw .badRequest("'\(key)' path '\(text)' must be absolute (the daemon does not share your working directory)")
            }
            return URL(fileURLWithPath: text, relativeTo: URL(fileURLWithPath: baseDirectory, isDirectory: true)).standardized.path
        }
        func converted<T>(_ body: () throws(RecorderError) -> T) throws(ControlError) -> T {
            do { return try body() } catch { throw .badRequest("'\(key)': \(error.description)") }
        }

        switch name {
        case "display":
            if value == .null { options.display = nil } else { options.display = try string() }
        case "fps": options.fps = try integer()
        case "region":
            switch value {
            case .null: options.region = nil
            case .string(let text): options.region = try converted { () throws(RecorderError) in try PixelRect(parsing: text) }
            case .array(let items):
                let numbers = items.compactMap { $0.intValue }.compactMap { Int(exactly: $0) }
                guard items.count == 4, numbers.count == 4 else { throw wrongType() }
                options.region = try converted { () throws(RecorderError) in try PixelRect(parsing: numbers.map(String.init).joined(separator: ",")) }
            default: throw wrongType()
            }
        case "window":
            if value == .null { options.window = nil } else { options.window = try string() }
        case "codec":
            guard let codec = SessionOptions.Codec(rawValue: try string()) else { throw wrongType() }
            options.codec = codec
        case "compressionlevel": options.compressionLevel = try integer()
        case "keyframeinterval": options.keyframeInterval = try integer()
        case "motionreference":
            // null restores the default (on whenever there are residuals); false writes format 1.
            if value == .null { options.motionReference = nil; break }
            guard let flag = value.boolValue else { throw wrongType() }
            options.motionReference = flag
        case "input":
            let texts: [String]
            switch value {
            case .string(let text): texts = [text]
            case .array(let items):
                let strings = items.compactMap(\.stringValue)
                guard strings.count == items.count, !strings.isEmpty else { throw wrongType() }
                texts = strings
            default: throw wrongType()
            }
            var sources: [SessionOptions.InputSource] = []
            for text in texts {
                var source = try converted { () throws(RecorderError) in try SessionOptions.InputSource(parsing: text) }
                if case .replay(let recording, let events) = source {
                    source = .replay(path: try path(recording), eventsPath: try events.map { (events) throws(ControlError) in try path(events) })
                }
                sources.append(source)
            }
            options.inputs = sources
        case "stateconfig":
            if value == .null { options.stateConfig = nil } else { options.stateConfig = try path(try string()) }
        case "staterate": options.stateRate = try number()
        case "meta":
            var entries: [SessionOptions.MetaEntry] = []
            switch value {
            case .object(let members):
                // Objects carry no order; sorted keys make the stored attribute order reproducible.
                for (metaKey, metaValue) in members.sorted(by: { $0.key < $1.key }) {
                    let text: String
                    switch metaValue {
                    case .string(let string): text = string
                    case .int(let number): text = String(number)
                    case .double(let number): text = String(number)
                    case .bool(let flag): text = String(flag)
                    default: throw .badRequest("'\(key)' value of '\(metaKey)' must be a string, number or boolean, got \(metaValue.kindName)")
                    }
                    guard !metaKey.isEmpty else { throw .badRequest("'\(key)' has an empty key") }
                    entries.append(SessionOptions.MetaEntry(key: metaKey, value: text))
                }
            case .array(let items):
                for item in items {
                    guard let text = item.stringValue else { throw wrongType() }
                    entries.append(try converted { () throws(RecorderError) in try SessionOptions.MetaEntry(parsing: text) })
                }
            default: throw wrongType()
            }
            options.meta = merged(options.meta, entries)
        case "redactkeys":
            guard let flag = value.boolValue else { throw wrongType() }
            options.redactKeys = flag
        case "inputfocus":
            if value == .null { options.inputFocus = nil } else { options.inputFocus = try string() }
        case "duration":
            if value == .null { options.duration = nil } else { options.duration = try number() }
        case "splitevery":
            var policy = options.split ?? SplitPolicy()
            switch value {
            case .null: policy.everySeconds = nil
            case .string(let text):
                guard let seconds = SplitPolicy.parseDuration(text) else { throw wrongType() }
                policy.everySeconds = seconds
            default: policy.everySeconds = try number()
            }
            try converted { () throws(RecorderError) in try policy.validate() }
            options.split = policy.splits ? policy : nil
        case "splitsize":
            var policy = options.split ?? SplitPolicy()
            switch value {
            case .null: policy.sizeBytes = nil
            case .string(let text):
                guard let bytes = ByteSize.parse(text) else { throw wrongType() }
                policy.sizeBytes = bytes
            default:
                guard let number = value.intValue else { throw wrongType() }
                policy.sizeBytes = Int64(exactly: number)
                guard policy.sizeBytes != nil else { throw wrongType() }
            }
            try converted { () throws(RecorderError) in try policy.validate() }
            options.split = policy.splits ? policy : nil
        default:
            throw .badRequest("unknown session option '\(key)'")
        }
    }

    /// `base` with every key of `overrides` replaced or appended, keeping the order of first appearance.
    static func merged(_ base: [SessionOptions.MetaEntry], _ overrides: [SessionOptions.MetaEntry]) -> [SessionOptions.MetaEntry] {
        var result = base
        for entry in overrides {
            if let index = result.firstIndex(where: { $0.key == entry.key }) {
                result[index] = entry
            } else {
                result.append(entry)
            }
        }
        return result
    }
}

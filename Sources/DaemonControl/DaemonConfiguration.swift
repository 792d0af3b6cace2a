import Foundation
import RecorderCore
import TOMLKit

/// The daemon's config file (TOML): where things go, and default session options.
///
/// ```toml
/// output_dir = "/var/lib/recorder"
/// socket = "/run/recorder/control.sock"
/// fps = 30
/// codec = "zstd"
/// keyframe_interval = 60
/// input = ["auto"]
/// state_config = "probes.toml"     # relative paths are relative to this file
/// display = ":0"
/// on_part_sealed = ["rclone", "copy", "{path}", "remote:bucket/{session}/"]
/// quota = "500G"                    # also min_free, upload_timeout, upload_attempts, delete_uploaded_parts
/// [meta]
/// site = "lab-3"
/// ```
/// Every session option of `start` may appear; unknown keys are an error so typos do not pass silently.
public struct DaemonConfiguration: Sendable, Equatable {
    public var outputDirectory: String?
    public var socketPath: String?
    /// Session options before a request's own fields are applied (`output` is left empty).
    public var sessionDefaults: SessionOptions

    public init(outputDirectory: String? = nil, socketPath: String? = nil, sessionDefaults: SessionOptions = SessionOptions(output: "")) {
        self.outputDirectory = outputDirectory
        self.socketPath = socketPath
        self.sessionDefaults = sessionDefaults
    }

    /// Reads and checks the file at `path`.
    /// - Throws: `RecorderError.invalidConfiguration` naming the file, and the key or TOML position.
    public static func load(path: String) throws(RecorderError) -> DaemonConfiguration {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw .invalidConfiguration("cannot read config file \(path): \(error.localizedDescription)")
        }
        let base = URL(fileURLWithPath: path).deletingLastPathComponent().path
        return try parse(toml: text, source: path, baseDirectory: base)
    }

    /// Parses TOML text; `source` names it in messages, relative paths resolve against `baseDirectory`.
    public static func parse(toml text: String, source: String, baseDirectory: String) throws(RecorderError) -> DaemonConfiguration {
        try TOMLPrecheck.check(text, source: source)
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw .invalidConfiguration("\(source): \(error.description) (\(error.source))")
        } catch {
            throw .invalidConfiguration("\(source): \(error)")
        }
        var configuration = DaemonConfiguration()
        for key in table.keys.sorted() {
            guard let item = table[key] else { continue }
            let value: JSONValue
            do {
                value = try jsonValue(item)
            } catch {
                throw .invalidConfiguration("\(source): key '\(key)': \(error.description)")
            }
            func path() throws(RecorderError) -> String {
                guard let text = value.stringValue, !text.isEmpty else {
                    throw .invalidConfiguration("\(source): '\(key)' must be a non-empty string path")
                }
                return text.hasPrefix("/") ? text : URL(fileURLWithPath: text, relativeTo: URL(fileURLWithPath: baseDirectory, isDirectory: true)).standardized.path
            }
            switch SessionOptionFields.normalize(key) {
            case "outputdir": configuration.outputDirectory = try path()
            case "socket": configuration.socketPath = try path()
            case let name where fleetKeys.contains(name):
                do {
                    try applyFleetKey(key, value, to: &configuration.sessionDefaults)
                } catch {
                    throw .invalidConfiguration("\(source): \(error.description)")
                }
            default:
                do {
                    try SessionOptionFields.apply(key, value, to: &configuration.sessionDefaults, baseDirectory: baseDirectory)
                } catch {
                    throw .invalidConfiguration("\(source): \(error.message)")
                }
            }
        }
        var probe = configuration.sessionDefaults
        probe.output = "/check"
        do {
            try checkFleet(&configuration.sessionDefaults)
            try probe.validate()
        } catch {
            throw .invalidConfiguration("\(source): \(error.description)")
        }
        return configuration
    }

    private static func jsonValue(_ item: any TOMLValueConvertible) throws(RecorderError) -> JSONValue {
        switch item.type {
        case .string: return .string(item.string ?? "")
        case .int: return .int(Int64(item.int ?? 0))
        case .double: return .double(item.double ?? 0)
        case .bool: return .bool(item.bool ?? false)
        case .array:
            var values: [JSONValue] = []
            for element in item.array ?? TOMLArray() { values.append(try jsonValue(element)) }
            return .array(values)
        case .table:
            var members: [String: JSONValue] = [:]
            if let table = item.table {
                for key in table.keys { if let value = table[key] { members[key] = try jsonValue(value) } }
            }
            return .object(members)
        default:
            throw .invalidConfiguration("dates and times are not used by any setting")
        }
    }
}

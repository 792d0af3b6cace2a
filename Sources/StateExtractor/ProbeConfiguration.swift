import Foundation
import RecorderCore

/// The probes of one session, parsed from a TOML file and validated against the screen size.
public struct ProbeConfiguration: Sendable, Equatable {
    /// Fields every sample carries before the probes' own: the pointer position on the root window.
    public static let cursorFields = [StateField(name: "cursor_x", kind: .int32), StateField(name: "cursor_y", kind: .int32)]
    /// Most pixel comparisons a template probe may cost per sample (positions x template pixels).
    public static let templateComparisonBudget = 4_000_000

    /// The file the probes came from ("" when there is none).
    public var path: String
    /// The TOML text as read (stored as `/state` attribute `probe_config`).
    public var sourceText: String
    /// The probes in file order.
    public var probes: [Probe]

    public init(path: String, sourceText: String, probes: [Probe]) {
        self.path = path
        self.sourceText = sourceText
        self.probes = probes
    }

    /// No probes: samples hold only the cursor.
    public static let empty = ProbeConfiguration(path: "", sourceText: "", probes: [])

    /// Reads, parses and validates a probe file.
    /// - Throws: `RecorderError.invalidConfiguration` whose message names the file, the probe and the field.
    public static func load(path: String, screenWidth: Int, screenHeight: Int) throws(RecorderError) -> ProbeConfiguration {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw RecorderError.invalidConfiguration("\(path): cannot read the probe file: \(error.localizedDescription)")
        }
        return try parse(text: text, path: path, screenWidth: screenWidth, screenHeight: screenHeight)
    }

    /// Parses and validates probe definitions; `path` names the source in errors and anchors relative template paths.
    public static func parse(text: String, path: String, screenWidth: Int, screenHeight: Int) throws(RecorderError) -> ProbeConfiguration {
        var parser = ProbeParser(path: path, screenWidth: screenWidth, screenHeight: screenHeight)
        let probes = try parser.parse(text)
        return ProbeConfiguration(path: path, sourceText: text, probes: probes)
    }

    /// Every field after `t_ns`: `cursor_x`, `cursor_y`, then each probe's fields in file order.
    public var fields: [StateField] { Self.cursorFields + probeFields }

    /// The probes' own fields, in file order.
    public var probeFields: [StateField] { probes.flatMap(\.fields) }

    /// `/state` attributes: `probes_json` and `probe_config`.
    public var attributes: [String: String] {
        ["probes_json": definitionsJSON, "probe_config": sourceText]
    }

    /// The parsed definitions as a JSON array, one object per probe with its fields (keys sorted).
    public var definitionsJSON: String {
        let objects: [[String: Any]] = probes.map { probe in
            var object: [String: Any] = ["name": probe.name, "kind": probe.kindName, "fields": probe.fields.map { ["name": $0.name, "type": $0.kind.rawValue] }]
            if let region = probe.region { object["region"] = [region.x, region.y, region.width, region.height] }
            switch probe.kind {
            case .bar(_, let color, let tolerance, let direction, let maxGap):
                object["color"] = color.description
                object["tolerance"] = tolerance
                object["direction"] = direction.rawValue
                object["max_gap"] = maxGap
            case .mean:
                break
            case .changed(_, let threshold):
                object["threshold"] = threshold
            case .template(_, let image, let templatePath):
                object["template"] = templatePath
                object["template_size"] = [image.width, image.height]
            case .window(let match):
                if let match { object["match"] = match }
            }
            return object
        }
        guard let data = try? JSONSerialization.data(withJSONObject: objects, options: [.sortedKeys]) else { return "[]" }
        return String(decoding: data, as: UTF8.self)
    }
}

import Foundation
import RecorderCore
import TOMLKit

/// Turns probe TOML into validated `Probe`s, failing on the first mistake with a message naming file, probe and field.
struct ProbeParser {
    private static let commonKeys: Set<String> = ["name", "kind"]
    private static let keysByKind: [String: Set<String>] = [
        "bar": ["region", "color", "tolerance", "direction", "max_gap"],
        "mean": ["region"],
        "changed": ["region", "threshold"],
        "template": ["region", "template"],
        "window": ["match"],
    ]
    private static let reservedFieldNames: Set<String> = ["t_ns"]

    let path: String
    let screenWidth: Int
    let screenHeight: Int

    init(path: String, screenWidth: Int, screenHeight: Int) {
        self.path = path
        self.screenWidth = screenWidth
        self.screenHeight = screenHeight
    }

    mutating func parse(_ text: String) throws(RecorderError) -> [Probe] {
        try TOMLPrecheck.check(text, source: path)
        let root: TOMLTable
        do {
            root = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw RecorderError.invalidConfiguration("\(path): \(error.source.begin.debugDescription): \(error.description)")
        } catch {
            throw RecorderError.invalidConfiguration("\(path): not valid TOML: \(error)")
        }
        for key in root.keys where key != "probe" {
            throw RecorderError.invalidConfiguration("\(path): unknown key '\(key)' (a probe file holds only [[probe]] tables)")
        }
        guard let list = root["probe"] else { return [] }
        guard list.type == .array, let array = list.array else {
            throw RecorderError.invalidConfiguration("\(path): 'probe' must be an array of tables ([[probe]]), not a \(list.type)")
        }
        var probes: [Probe] = []
        var fieldOwners: [String: String] = [:]
        for field in ProbeConfiguration.cursorFields { fieldOwners[field.name] = "the cursor" }
        for name in Self.reservedFieldNames { fieldOwners[name] = "the timestamp" }
        for (index, element) in array.enumerated() {
            let probe = try parseProbe(element, number: index + 1)
            if let earlier = probes.first(where: { $0.name == probe.name }) {
                throw error("'\(probe.name)'", field: "name", "duplicate probe name (also used by an earlier \(earlier.kindName) probe)")
            }
            for field in probe.fields {
                if let owner = fieldOwners[field.name] {
                    throw error("'\(probe.name)'", field: "name", "its sample field '\(field.name)' collides with a field of \(owner)")
                }
                fieldOwners[field.name] = "probe '\(probe.name)'"
            }
            probes.append(probe)
        }
        return probes
    }

    private func error(_ probe: String, field: String? = nil, _ problem: String) -> RecorderError {
        var message = "\(path): probe \(probe)"
        if let field { message += ": field '\(field)'" }
        return RecorderError.invalidConfiguration(message + ": " + problem)
    }

    private func parseProbe(_ element: any TOMLValueConvertible, number: Int) throws(RecorderError) -> Probe {
        let anonymous = "#\(number)"
        guard element.type == .table, let table = element.table else {
            throw error(anonymous, "must be a table, not a \(element.type)")
        }
        guard let nameValue = table["name"] else { throw error(anonymous, field: "name", "missing (every probe needs a name)") }
        guard let name = nameValue.string else { throw error(anonymous, field: "name", "must be a string, not a \(nameValue.type)") }
        let label = "'\(name)'"
        guard Self.isIdentifier(name) else {
            throw error(label, field: "name", "must be 1 to 48 of a-z A-Z 0-9 _, not starting with a digit")
        }
        guard let kindValue = table["kind"] else { throw error(label, field: "kind", "missing (one of \(Self.kindList))") }
        guard let kind = kindValue.string else { throw error(label, field: "kind", "must be a string, not a \(kindValue.type)") }
        guard let allowed = Self.keysByKind[kind] else {
            throw error(label, field: "kind", "unknown kind '\(kind)' (one of \(Self.kindList))")
        }
        for key in table.keys.sorted() where !allowed.contains(key) && !Self.commonKeys.contains(key) {
            throw error(label, field: key, "unknown key for a \(kind) probe (allowed: \((Self.commonKeys.union(allowed)).sorted().joined(separator: ", ")))")
        }
        let fields = ProbeFields(table: table, probe: label, parser: self)
        switch kind {
        case "bar":
            let region = try fields.region("region")
            let color = try fields.color("color")
            let tolerance = try fields.integer("tolerance", default: 32, in: 0...255)
            let directionWord = try fields.string("direction", default: BarDirection.right.rawValue)
            guard let direction = BarDirection(rawValue: directionWord) else {
                throw error(label, field: "direction", "'\(directionWord)' is not one of \(BarDirection.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", "))")
            }
            let maxGap = try fields.integer("max_gap", default: 2, in: 0...1_000_000)
            return Probe(name: name, kind: .bar(region: region, color: color, tolerance: tolerance, direction: direction, maxGap: maxGap))
        case "mean":
            return Probe(name: name, kind: .mean(region: try fields.region("region")))
        case "changed":
            let region = try fields.region("region")
            guard region.width >= PerceptualHash.columns, region.height >= PerceptualHash.rows else {
                throw error(label, field: "region", "\(region.probeNotation) is smaller than the \(PerceptualHash.columns)x\(PerceptualHash.rows) pixels a hash needs")
            }
            let threshold = try fields.integer("threshold", default: 4, in: 0...PerceptualHash.bits)
            return Probe(name: name, kind: .changed(region: region, threshold: threshold))
        case "template":
            let region = try fields.region("region")
            let relative = try fields.string("template", default: nil)
            let resolved = resolve(relative)
            let image: RGBImage
            do {
                image = try RGBImage.loadPNG(path: resolved, maxWidth: region.width, maxHeight: region.height)
            } catch let failure {
                throw error(label, field: "template", "cannot read PNG '\(resolved)': \(failure)")
            }
            guard image.width <= region.width, image.height <= region.height else {
                throw error(label, field: "template", "the \(image.width)x\(image.height) template is larger than the region \(region.probeNotation)")
            }
            // Both factors are bounded by the screen, but the product is checked rather than trusted.
            let positions = (region.width - image.width + 1).multipliedReportingOverflow(by: region.height - image.height + 1)
            let pixels = image.width.multipliedReportingOverflow(by: image.height)
            let product = positions.partialValue.multipliedReportingOverflow(by: pixels.partialValue)
            let cost = positions.overflow || pixels.overflow || product.overflow ? Int.max : product.partialValue
            guard cost <= ProbeConfiguration.templateComparisonBudget else {
                throw error(label, field: "region", "searching \(region.probeNotation) for a \(image.width)x\(image.height) template costs \(cost) pixel comparisons per sample, over the budget of \(ProbeConfiguration.templateComparisonBudget); shrink the region")
            }
            return Probe(name: name, kind: .template(region: region, image: image, path: resolved))
        case "window":
            let match = try fields.optionalString("match")
            return Probe(name: name, kind: .window(match: match))
        default:
            throw error(label, field: "kind", "unknown kind '\(kind)'")
        }
    }

    /// Template paths are relative to the probe file's folder.
    private func resolve(_ relative: String) -> String {
        if relative.hasPrefix("/") { return relative }
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
        return folder.appendingPathComponent(relative).standardizedFileURL.path
    }

    private static var kindList: String { keysByKind.keys.sorted().joined(separator: ", ") }

    private static func isIdentifier(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard (1...48).contains(bytes.count) else { return false }
        if (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[0]) { return false }
        return bytes.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "_")
        }
    }

    /// Typed access to one probe table's keys, each failure naming the probe and the key.
    private struct ProbeFields {
        let table: TOMLTable
        let probe: String
        let parser: ProbeParser

        func region(_ key: String) throws(RecorderError) -> PixelRect {
            guard let value = table[key] else { throw parser.error(probe, field: key, "missing (expected [x, y, w, h])") }
            guard value.type == .array, let array = value.array, array.count == 4 else {
                throw parser.error(probe, field: key, "must be an array of 4 integers [x, y, w, h], got \(value.debugDescription)")
            }
            var numbers: [Int] = []
            for element in array {
                guard element.type == .int, let number = element.int else {
                    throw parser.error(probe, field: key, "must be an array of 4 integers [x, y, w, h], got \(value.debugDescription)")
                }
                numbers.append(number)
            }
            let region = PixelRect(x: numbers[0], y: numbers[1], width: numbers[2], height: numbers[3])
            guard region.width >= 1, region.height >= 1 else {
                throw parser.error(probe, field: key, "region \(region.probeNotation) must be at least 1x1 pixels")
            }
            // Subtracting from the screen size cannot overflow where adding to a huge x could.
            guard region.x >= 0, region.y >= 0, region.x <= parser.screenWidth - region.width, region.y <= parser.screenHeight - region.height else {
                throw parser.error(probe, field: key, "region \(region.probeNotation) lies outside the \(parser.screenWidth)x\(parser.screenHeight) screen")
            }
            return region
        }

        func color(_ key: String) throws(RecorderError) -> RGBColor {
            let text = try string(key, default: nil)
            guard let color = RGBColor(hex: text) else {
                throw parser.error(probe, field: key, "bad colour \"\(text)\" (expected \"#rrggbb\")")
            }
            return color
        }

        func integer(_ key: String, default fallback: Int?, in range: ClosedRange<Int>) throws(RecorderError) -> Int {
            guard let value = table[key] else {
                if let fallback { return fallback }
                throw parser.error(probe, field: key, "missing (an integer in \(range.lowerBound)...\(range.upperBound))")
            }
            guard value.type == .int, let number = value.int else {
                throw parser.error(probe, field: key, "must be an integer, not a \(value.type)")
            }
            guard range.contains(number) else {
                throw parser.error(probe, field: key, "\(number) is outside \(range.lowerBound)...\(range.upperBound)")
            }
            return number
        }

        func string(_ key: String, default fallback: String?) throws(RecorderError) -> String {
            guard let value = table[key] else {
                if let fallback { return fallback }
                throw parser.error(probe, field: key, "missing (a string)")
            }
            guard value.type == .string, let text = value.string else {
                throw parser.error(probe, field: key, "must be a string, not a \(value.type)")
            }
            return text
        }

        func optionalString(_ key: String) throws(RecorderError) -> String? {
            guard table[key] != nil else { return nil }
            return try string(key, default: nil)
        }
    }
}

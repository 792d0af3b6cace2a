import Foundation
import RecorderCore

/// An evemu recording (file format 1.0 to 1.3): a device description and its events.
///
/// Accepts what evemu itself reads: an optional `# EVEMU M.N` first line (absent means 1.0),
/// `#` comment lines anywhere, end-of-line comments (except in the `N:` name, which may hold `#`),
/// `N:` name, `I:` bus/vendor/product/version (hex), `P:` property bytes, `B:` type + 8 bitmask
/// bytes (both accumulate 8 bytes per line), `A:` code + min max fuzz flat [resolution]
/// (4 numbers up to 1.1, 5 from 1.2; both are accepted in every version), `L:` and `S:` LED and
/// switch states, and `E: sec.usec type code value` events (type and code hex, value decimal).
/// The description and events come from one file, or a `.desc` plus an `.events` file.
public struct EvemuRecording: Sendable, Equatable {
    /// One `A:` line (a recording's description has no value at open: it is 0).
    public typealias AbsInfo = InputDeviceInfo.AbsAxis

    /// One `E:` line; `timeNs` is the recording's own clock (often relative, sometimes epoch).
    public struct Event: Sendable, Equatable {
        public var timeNs: Int64
        public var type: UInt16
        public var code: UInt16
        public var value: Int32

        public init(timeNs: Int64, type: UInt16, code: UInt16, value: Int32) {
            self.timeNs = timeNs
            self.type = type
            self.code = code
            self.value = value
        }
    }

    /// `major.minor` from the header line, "1.0" when there is none.
    public var formatVersion: String
    public var name: String
    public var bus: UInt16
    public var vendor: UInt16
    public var product: UInt16
    public var version: UInt16
    /// INPUT_PROP_* bits set.
    public var properties: [UInt16]
    /// Codes per event type from the `B:` lines (EV_SYN included as written).
    public var capabilities: [UInt16: [UInt16]]
    public var absInfo: [AbsInfo]
    /// LED and switch states (`L:` / `S:`), code -> state.
    public var leds: [UInt16: Int32]
    public var switches: [UInt16: Int32]
    public var events: [Event]
    /// The files it came from, for messages and `/input/devices`.
    public var path: String
    public var eventsPath: String?

    /// Reads a recording from one file (description then events) or from a description and an events file.
    ///
    /// A `.desc` file given alone whose sibling `.events` exists is read with it.
    /// - Throws: `RecorderError.invalidConfiguration` naming the file and line of the first problem.
    public static func load(path: String, eventsPath: String?) throws(RecorderError) -> EvemuRecording {
        var eventsPath = eventsPath
        let description = try readText(path)
        if eventsPath == nil, path.hasSuffix(".desc") {
            let sibling = String(path.dropLast(".desc".count)) + ".events"
            if FileManager.default.fileExists(atPath: sibling) { eventsPath = sibling }
        }
        let events = try eventsPath.map { path throws(RecorderError) in try readText(path) }
        return try parse(description: description, descriptionName: path, events: events, eventsName: eventsPath)
    }

    /// Parses recording text; the names only label error messages and the result.
    public static func parse(
        description: String, descriptionName: String = "<description>",
        events: String? = nil, eventsName: String? = nil
    ) throws(RecorderError) -> EvemuRecording {
        var parser = Parser()
        try parser.consume(description, file: descriptionName, isEventsFile: false)
        if let events {
            try parser.consume(events, file: eventsName ?? "<events>", isEventsFile: true)
        }
        return try parser.finish(path: descriptionName, eventsPath: eventsName)
    }

    /// Largest file read (about 10 million event lines); the whole file is held in memory while parsing.
    static let maxFileBytes: Int64 = 512 << 20

    private static func readText(_ path: String) throws(RecorderError) -> String {
        var status = stat()
        guard stat(path, &status) == 0, status.st_mode & mode_t(S_IFMT) == mode_t(S_IFREG) else {
            throw .invalidConfiguration("replay: \(path) is not a readable regular file")
        }
        guard Int64(status.st_size) <= maxFileBytes else {
            throw .invalidConfiguration("replay: \(path) is \(status.st_size) bytes; evemu files over \(maxFileBytes) bytes are refused")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .invalidConfiguration("replay: cannot read evemu file \(path)")
        }
        return String(decoding: data, as: UTF8.self)
    }
}

/// Line-by-line state of one parse.
private struct Parser {
    var formatVersion: String?
    var name: String?
    var ids: (bus: UInt16, vendor: UInt16, product: UInt16, version: UInt16)?
    var properties: [UInt16] = []
    var propertyBytes = 0
    var capabilities: [UInt16: [UInt16]] = [:]
    var maskBytes: [UInt16: Int] = [:]
    var absInfo: [EvemuRecording.AbsInfo] = []
    var leds: [UInt16: Int32] = [:]
    var switches: [UInt16: Int32] = [:]
    var events: [EvemuRecording.Event] = []
    var firstFile = ""

    /// Highest type and code the kernel defines (EV_MAX, KEY_MAX is the largest code space).
    static let maxType: UInt16 = 0x1f
    static let maxCode: UInt16 = 0x2ff
    /// Bitmask bytes that cover every code up to `maxCode`: 12 lines of 8 bytes per type (and for properties).
    static let maxMaskBytes = (Int(maxCode) + 1) / 8

    mutating func consume(_ text: String, file: String, isEventsFile: Bool) throws(RecorderError) {
        if firstFile.isEmpty { firstFile = file }
        var lineNumber = 0
        var sawContent = false
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            var line = Substring(rawLine)
            if line.hasSuffix("\r") { line = line.dropLast() }
            let trimmed = line.drop { $0 == " " || $0 == "\t" }
            if trimmed.isEmpty { continue }
            if trimmed.hasPrefix("#") {
                if !sawContent, let version = Self.headerVersion(trimmed) {
                    if !isEventsFile || formatVersion == nil { formatVersion = version }
                }
                continue
            }
            sawContent = true
            let fail = { (message: String) -> RecorderError in
                // The line is untrusted text: shortened and escaped before it reaches a terminal or log.
                let shown = line.count > 120 ? line.prefix(120) + "..." : line
                return .invalidConfiguration("replay: \(TerminalText.escaped(file)):\(lineNumber): \(message): '\(TerminalText.escaped(String(shown)))'")
            }
            guard trimmed.count >= 2, trimmed[trimmed.index(after: trimmed.startIndex)] == ":" else {
                throw fail("not an evemu line")
            }
            let tag = trimmed.first!
            let rest = trimmed.dropFirst(2)
            if tag == "N" {
                // The name is everything after "N: ", '#' included (evemu reads it with %[^\n\r]).
                if isEventsFile && name != nil { continue }
                name = String(rest.drop { $0 == " " || $0 == "\t" })
                continue
            }
            let body = rest.firstIndex(of: "#").map { rest[..<$0] } ?? rest
            let fields = body.split(whereSeparator: { $0 == " " || $0 == "\t" })
            // A description repeated at the top of an .events file is skipped, as evemu-play does.
            if isEventsFile && tag != "E" && ids != nil && "IPBALS".contains(tag) { continue }
            switch tag {
            case "I":
                guard fields.count == 4, let values = Self.hex(fields, as: UInt16.self) else {
                    throw fail("I: needs bus vendor product version in hex")
                }
                ids = (values[0], values[1], values[2], values[3])
            case "P":
                guard fields.count == 8, let bytes = Self.hex(fields, as: UInt8.self) else {
                    throw fail("P: needs 8 hex bytes")
                }
                guard propertyBytes < Self.maxMaskBytes else {
                    throw fail("P: more than \(Self.maxMaskBytes / 8) property lines (codes up to \(Self.maxCode))")
                }
                for (index, byte) in bytes.enumerated() {
                    for bit in 0..<8 where byte & (1 << bit) != 0 {
                        properties.append(UInt16((propertyBytes + index) * 8 + bit))
                    }
                }
                propertyBytes += 8
            case "B":
                guard fields.count == 9, let values = Self.hex(fields, as: UInt8.self) else {
                    throw fail("B: needs an event type and 8 hex bytes")
                }
                let type = UInt16(values[0])
                guard type <= Self.maxType else { throw fail("B: event type \(type) is beyond EV_MAX") }
                let offset = maskBytes[type, default: 0]
                guard offset < Self.maxMaskBytes else {
                    throw fail("B: more than \(Self.maxMaskBytes / 8) lines for event type \(type) (codes up to \(Self.maxCode))")
                }
                for (index, byte) in values.dropFirst().enumerated() {
                    for bit in 0..<8 where byte & (1 << bit) != 0 {
                        capabilities[type, default: []].append(UInt16((offset + index) * 8 + bit))
                    }
                }
                maskBytes[type] = offset + 8
            case "A":
                guard fields.count == 5 || fields.count == 6, let code = UInt16(fields[0], radix: 16),
                      let numbers = Self.decimal(fields.dropFirst()) else {
                    throw fail("A: needs an axis code and min max fuzz flat [resolution]")
                }
                guard code <= Self.maxCode else { throw fail("A: axis code out of range") }
                absInfo.append(.init(code: code, minimum: numbers[0], maximum: numbers[1], fuzz: numbers[2],
                                     flat: numbers[3], resolution: numbers.count > 4 ? numbers[4] : 0))
            case "L", "S":
                guard fields.count == 2, let code = UInt16(fields[0], radix: 16), let state = Int32(fields[1]) else {
                    throw fail("\(tag): needs a hex code and a state")
                }
                guard code <= Self.maxCode else { throw fail("\(tag): code out of range") }
                if tag == "L" { leds[code] = state } else { switches[code] = state }
            case "E":
                guard fields.count == 4, let time = Self.timestamp(fields[0]),
                      let type = UInt16(fields[1], radix: 16), let code = UInt16(fields[2], radix: 16),
                      let value = Int32(fields[3]) else {
                    throw fail("E: needs sec.usec type code value (type and code hex, value decimal)")
                }
                guard type <= Self.maxType, code <= Self.maxCode else {
                    throw fail("E: type or code out of range")
                }
                guard name != nil, ids != nil else {
                    throw fail("E: line before the device description (N: and I: lines)")
                }
                events.append(.init(timeNs: time, type: type, code: code, value: value))
            default:
                throw fail("unknown line kind '\(TerminalText.escaped(String(tag))):'")
            }
        }
    }

    func finish(path: String, eventsPath: String?) throws(RecorderError) -> EvemuRecording {
        guard name.map({ $0.utf8.count <= 256 }) ?? true else { throw .invalidConfiguration("replay: \(path): the 'N:' name is longer than 256 bytes") }
        guard let name else { throw .invalidConfiguration("replay: \(path): no 'N:' device name line") }
        guard let ids else { throw .invalidConfiguration("replay: \(path): no 'I:' bus/vendor/product/version line") }
        guard !events.isEmpty else {
            throw .invalidConfiguration("replay: \(eventsPath ?? path): no 'E:' event lines")
        }
        return EvemuRecording(
            formatVersion: formatVersion ?? "1.0", name: name, bus: ids.bus, vendor: ids.vendor,
            product: ids.product, version: ids.version, properties: properties,
            capabilities: capabilities.mapValues { Array(Set($0)).sorted() }, absInfo: absInfo,
            leds: leds, switches: switches, events: events, path: path, eventsPath: eventsPath
        )
    }

    /// "1.3" from "# EVEMU 1.3".
    static func headerVersion(_ line: Substring) -> String? {
        let words = line.dropFirst().split(separator: " ")
        guard words.count >= 2, words[0] == "EVEMU" else { return nil }
        let parts = words[1].split(separator: ".")
        guard parts.count == 2, UInt16(parts[0]) != nil, UInt16(parts[1]) != nil else { return nil }
        return String(words[1])
    }

    static func hex<T: FixedWidthInteger>(_ fields: [Substring], as: T.Type) -> [T]? {
        var values: [T] = []
        for field in fields {
            guard let value = T(field, radix: 16) else { return nil }
            values.append(value)
        }
        return values
    }

    static func decimal(_ fields: ArraySlice<Substring>) -> [Int32]? {
        var values: [Int32] = []
        for field in fields {
            guard let value = Int32(field) else { return nil }
            values.append(value)
        }
        return values
    }

    /// "1329846856.201613" -> nanoseconds; the fraction is a decimal fraction of a second (evemu writes 6 digits).
    static func timestamp(_ field: Substring) -> Int64? {
        let parts = field.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let seconds = Int64(parts[0]), seconds >= 0, seconds < 9_000_000_000,
              (1...9).contains(parts[1].count), parts[1].allSatisfy(\.isASCII), let fraction = Int64(parts[1]),
              fraction >= 0 else { return nil }
        var scale: Int64 = 1
        for _ in parts[1].count..<9 { scale *= 10 }
        return seconds * 1_000_000_000 + fraction * scale
    }
}

import Foundation

/// One parsed request line: `{"command": "start" | "stop" | "status" | "list", ...}`.
public enum ControlRequest: Sendable, Equatable {
    /// `start` with the session name and its option fields as given (not yet applied).
    case start(name: String, options: [String: JSONValue])
    /// `stop`, optionally naming the session the client expects to stop.
    case stop(name: String?)
    case status
    case list

    public static let commands = ["start", "stop", "status", "list"]

    /// Parses one request line (without its newline).
    /// - Throws: `ControlError.badRequest` saying what is wrong, in words a person can act on.
    public static func parse(_ line: [UInt8]) throws(ControlError) -> ControlRequest {
        let example = "send one JSON object per line, e.g. {\"command\": \"status\"}"
        guard line.contains(where: { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\t") }) else {
            throw .badRequest("empty request line; \(example)")
        }
        guard String(validating: line, as: UTF8.self) != nil else {
            throw .badRequest("request is not valid UTF-8 text; \(example)")
        }
        let value: JSONValue
        do {
            value = try JSONValue.parse(Data(line))
        } catch {
            throw .badRequest("request is not valid JSON; \(example)")
        }
        guard case .object(let fields) = value else {
            throw .badRequest("request must be a JSON object, got \(value.kindName); \(example)")
        }
        guard let commandValue = fields["command"] else {
            throw .badRequest("request has no \"command\"; known commands: \(commands.joined(separator: ", "))")
        }
        guard case .string(let command) = commandValue else {
            throw .badRequest("\"command\" must be a string, got \(commandValue.kindName)")
        }
        var rest = fields
        rest.removeValue(forKey: "command")
        switch command {
        case "start":
            guard let nameValue = rest.removeValue(forKey: "name") else {
                throw .badRequest("start needs a \"name\" (1 to 64 of A-Z a-z 0-9 . _ -)")
            }
            guard case .string(let name) = nameValue else {
                throw .badRequest("\"name\" must be a string, got \(nameValue.kindName)")
            }
            try SessionName.validate(name)
            for key in rest.keys.sorted() where !SessionOptionFields.isSessionOption(key) {
                throw .badRequest("unknown field \"\(key)\" for start; session options: \(SessionOptionFields.fields.keys.sorted().joined(separator: ", "))")
            }
            return .start(name: name, options: rest)
        case "stop":
            var name: String?
            if let nameValue = rest.removeValue(forKey: "name") {
                guard case .string(let text) = nameValue else {
                    throw .badRequest("\"name\" must be a string, got \(nameValue.kindName)")
                }
                try SessionName.validate(text)
                name = text
            }
            try refuseExtra(rest, command: command)
            return .stop(name: name)
        case "status":
            try refuseExtra(rest, command: command)
            return .status
        case "list":
            try refuseExtra(rest, command: command)
            return .list
        default:
            throw .badRequest("unknown command \"\(SessionName.printable(command))\"; known commands: \(commands.joined(separator: ", "))")
        }
    }

    private static func refuseExtra(_ fields: [String: JSONValue], command: String) throws(ControlError) {
        if let key = fields.keys.sorted().first {
            throw .badRequest("unknown field \"\(key)\" for \(command)")
        }
    }

    /// The request as a line to send (used by the CLI and tests).
    public var json: JSONValue {
        switch self {
        case .start(let name, let options):
            var fields = options
            fields["command"] = "start"
            fields["name"] = .string(name)
            return .object(fields)
        case .stop(let name):
            var fields: [String: JSONValue] = ["command": "stop"]
            if let name { fields["name"] = .string(name) }
            return .object(fields)
        case .status: return ["command": "status"]
        case .list: return ["command": "list"]
        }
    }
}

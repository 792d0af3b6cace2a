import RecorderCore

extension DaemonConfiguration {
    /// The config-only keys of the upload hook and the disk bounds, normalized like session fields.
    ///
    /// They are the operator's: a `start` request cannot set them, so a socket client can neither make
    /// the daemon run a program nor lift its quota.
    static let fleetKeys: Set<String> = [
        "onpartsealed", "uploadtimeout", "uploadattempts", "uploadconcurrency", "uploadbackoff",
        "minfree", "quota", "deleteuploadedparts",
    ]

    /// Sets one fleet key on `options`; the message names the key and what it must be.
    static func applyFleetKey(_ key: String, _ value: JSONValue, to options: inout SessionOptions) throws(RecorderError) {
        var hook = options.uploadHook ?? UploadHook(command: [])
        var bounds = options.diskBounds ?? DiskBounds()
        func seconds() throws(RecorderError) -> Double {
            guard let number = value.doubleValue, number.isFinite else { throw .invalidConfiguration("'\(key)' must be a number of seconds, got \(value.kindName)") }
            return number
        }
        func integer() throws(RecorderError) -> Int {
            guard let number = value.intValue, let result = Int(exactly: number) else { throw .invalidConfiguration("'\(key)' must be an integer, got \(value.kindName)") }
            return result
        }
        func size() throws(RecorderError) -> Int64 {
            switch value {
            case .string(let text):
                guard let bytes = ByteSize.parse(text) else {
                    throw .invalidConfiguration("'\(key)' must be a size such as \"2G\" or \"500M\", got \"\(TerminalText.escaped(String(text.prefix(40))))\"")
                }
                return bytes
            default:
                guard let number = value.intValue else { throw .invalidConfiguration("'\(key)' must be bytes (an integer) or a size string such as \"2G\", got \(value.kindName)") }
                return number
            }
        }
        switch SessionOptionFields.normalize(key) {
        case "onpartsealed":
            guard let elements = value.arrayValue else {
                throw .invalidConfiguration("'\(key)' must be a list of strings (the program, then its arguments), got \(value.kindName)")
            }
            var command: [String] = []
            for (index, element) in elements.enumerated() {
                guard let text = element.stringValue else {
                    throw .invalidConfiguration("'\(key)': element \(index + 1) must be a string, got \(element.kindName)")
                }
                command.append(text)
            }
            guard !command.isEmpty else {
                throw .invalidConfiguration("'\(key)' must list 1 to \(UploadHook.Limits.arguments.upperBound) arguments (the program first), got none")
            }
            hook.command = command
        case "uploadtimeout": hook.timeoutSeconds = try seconds()
        case "uploadattempts": hook.attempts = try integer()
        case "uploadconcurrency": hook.concurrency = try integer()
        case "uploadbackoff": hook.backoffSeconds = try seconds()
        case "minfree": bounds.minFreeBytes = try size()
        case "quota": bounds.quotaBytes = try size()
        case "deleteuploadedparts":
            guard let flag = value.boolValue else { throw .invalidConfiguration("'\(key)' must be a boolean, got \(value.kindName)") }
            bounds.deleteUploadedParts = flag
        default:
            throw .invalidConfiguration("unknown key '\(key)'")
        }
        if hook != UploadHook(command: []) || options.uploadHook != nil { options.uploadHook = hook }
        if bounds != DiskBounds() || options.diskBounds != nil { options.diskBounds = bounds }
    }

    /// Checks what the fleet keys built together: upload settings need a command, deleting parts needs
    /// a hook that confirms uploads and a bound that asks for room.
    static func checkFleet(_ options: inout SessionOptions) throws(RecorderError) {
        if let hook = options.uploadHook, hook.command.isEmpty {
            throw .invalidConfiguration("upload_timeout, upload_attempts, upload_concurrency and upload_backoff need on_part_sealed")
        }
        if let bounds = options.diskBounds {
            if bounds.deleteUploadedParts && (options.uploadHook == nil || !bounds.bounds) {
                throw .invalidConfiguration("delete_uploaded_parts needs on_part_sealed (which confirms uploads) and min_free or quota")
            }
            if bounds == DiskBounds() { options.diskBounds = nil }
        }
    }
}

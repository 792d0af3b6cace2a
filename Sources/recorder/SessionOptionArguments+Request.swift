import DaemonControl
import Foundation
import RecorderCore

extension SessionOptionArguments {
    /// The options as `start` request fields: only those given on the command line, so the daemon's
    /// config file supplies the rest; paths are made absolute against this working directory.
    func requestFields(duration: Double?) throws(RecorderError) -> [String: JSONValue] {
        var fields: [String: JSONValue] = [:]
        if let display { fields["display"] = .string(display) }
        if let fps { fields["fps"] = .int(Int64(fps)) }
        if let region { fields["region"] = .string(region) }
        if let window { fields["window"] = .string(window) }
        if let codec { fields["codec"] = .string(codec) }
        if let compressionLevel { fields["compression_level"] = .int(Int64(compressionLevel)) }
        if let keyframeInterval { fields["keyframe_interval"] = .int(Int64(keyframeInterval)) }
        if !inputs.isEmpty {
            var sources: [JSONValue] = []
            for text in inputs {
                var source = try SessionOptions.InputSource(parsing: text)
                if case .replay(let path, let events) = source {
                    source = .replay(path: Self.absolute(path), eventsPath: events.map(Self.absolute))
                }
                sources.append(.string(source.description))
            }
            fields["input"] = .array(sources)
        }
        if let stateConfig { fields["state_config"] = .string(Self.absolute(stateConfig)) }
        if let stateRate { fields["state_rate"] = .double(stateRate) }
        if !meta.isEmpty { fields["meta"] = .array(meta.map { .string($0) }) }
        if redactKeys { fields["redact_keys"] = true }
        if let motion = try motionReferenceChoice() { fields["motion_reference"] = .bool(motion) }
        if let inputFocus { fields["input_focus"] = .string(inputFocus) }
        if let policy = try splitPolicy() {
            if let seconds = policy.everySeconds { fields["split_every"] = .double(seconds) }
            if let bytes = policy.sizeBytes { fields["split_size"] = .int(bytes) }
        }
        if let duration { fields["duration"] = .double(duration) }
        return fields
    }

    static func absolute(_ path: String) -> String {
        URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true)).standardized.path
    }
}

import RecorderCore

/// The layout of `/state/samples` and the attributes of `/state`, fixed once the probes are loaded.
public struct StateSchema: Sendable, Equatable {
    /// Every field after `t_ns`, in order: `cursor_x`, `cursor_y`, then the probes' fields.
    public var fields: [StateField]
    /// `probes_json` (the parsed definitions as JSON) and `probe_config` (the TOML text, "" when none).
    public var attributes: [String: String]

    public init(fields: [StateField], attributes: [String: String]) {
        self.fields = fields
        self.attributes = attributes
    }
}

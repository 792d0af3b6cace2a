/// `recorderd [--socket PATH] [--config FILE.toml] [--output-dir DIR]`.
public struct DaemonArguments: Sendable, Equatable {
    public var socketPath: String?
    public var configPath: String?
    public var outputDirectory: String?
    public var showHelp = false

    public init(socketPath: String? = nil, configPath: String? = nil, outputDirectory: String? = nil) {
        self.socketPath = socketPath
        self.configPath = configPath
        self.outputDirectory = outputDirectory
    }

    public static let usage = """
        usage: recorderd [--socket PATH] [--config FILE.toml] [--output-dir DIR]

          --socket PATH      control socket (default: $XDG_RUNTIME_DIR/recorder/control.sock,
                             or /run/recorder/control.sock for root without XDG_RUNTIME_DIR)
          --config FILE      TOML defaults: output_dir, socket and any session option; SIGHUP re-reads it
                             (default, when it exists: $CONFIGURATION_DIRECTORY/recorderd.toml, else
                             $XDG_CONFIG_HOME/recorder/recorderd.toml, else /etc/recorder/recorderd.toml)
          --output-dir DIR   where sessions go as DIR/NAME.h5 (default: $STATE_DIRECTORY,
                             else $XDG_DATA_HOME/recorder, else ~/.local/share/recorder)
        Command-line flags win over the config file.
        """

    /// Parses the arguments after the program name (`--flag value` or `--flag=value`).
    /// - Throws: `ControlError.badRequest` with a message for a usage line.
    public static func parse(_ arguments: [String]) throws(ControlError) -> DaemonArguments {
        var result = DaemonArguments()
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            if argument == "--help" || argument == "-h" {
                result.showHelp = true
                continue
            }
            var flag = argument
            var value: String?
            if let equals = argument.firstIndex(of: "="), argument.hasPrefix("--") {
                flag = String(argument[..<equals])
                value = String(argument[argument.index(after: equals)...])
            }
            guard ["--socket", "--config", "--output-dir"].contains(flag) else {
                throw .badRequest("unknown argument '\(argument)'")
            }
            if value == nil {
                guard index < arguments.count else { throw .badRequest("\(flag) needs a value") }
                value = arguments[index]
                index += 1
            }
            guard let value, !value.isEmpty else { throw .badRequest("\(flag) needs a non-empty value") }
            switch flag {
            case "--socket": result.socketPath = value
            case "--config": result.configPath = value
            default: result.outputDirectory = value
            }
        }
        return result
    }
}

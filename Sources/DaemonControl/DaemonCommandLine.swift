import ArgumentParser

/// `recorderd`'s command line as swift-argument-parser reads it: `[--socket PATH] [--config FILE.toml] [--output-dir DIR]`.
public struct DaemonCommandLine: ParsableArguments {
    @Option(name: .customLong("socket"), help: ArgumentHelp(
        "Control socket (default: $XDG_RUNTIME_DIR/recorder/control.sock, or /run/recorder/control.sock for root without XDG_RUNTIME_DIR).",
        valueName: "path"))
    var socketPath: String?

    @Option(name: .customLong("config"), help: ArgumentHelp(
        "TOML defaults: output_dir, socket and any session option; SIGHUP re-reads it (default, when it exists: "
            + "$CONFIGURATION_DIRECTORY/recorderd.toml, else $XDG_CONFIG_HOME/recorder/recorderd.toml, else /etc/recorder/recorderd.toml).",
        valueName: "file.toml"))
    var configPath: String?

    @Option(name: .customLong("output-dir"), help: ArgumentHelp(
        "Where sessions go as DIR/NAME.h5 (default: $STATE_DIRECTORY, else $XDG_DATA_HOME/recorder, else ~/.local/share/recorder).",
        valueName: "dir"))
    var outputDirectory: String?

    public init() {}

    public func validate() throws {
        for (flag, value) in [("--socket", socketPath), ("--config", configPath), ("--output-dir", outputDirectory)] where value?.isEmpty == true {
            throw ValidationError("\(flag) needs a non-empty value")
        }
    }

    /// The values, for the daemon's settings.
    public var arguments: DaemonArguments {
        DaemonArguments(socketPath: socketPath, configPath: configPath, outputDirectory: outputDirectory)
    }
}

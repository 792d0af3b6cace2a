import ArgumentParser

/// What `recorderd [--socket PATH] [--config FILE.toml] [--output-dir DIR]` was given; command-line flags
/// win over the config file.
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

    /// Parses the arguments after the program name with `DaemonCommandLine`.
    /// - Throws: `ControlError.badRequest` with ArgumentParser's message; `--help` sets `showHelp` instead.
    public static func parse(_ arguments: [String]) throws(ControlError) -> DaemonArguments {
        do {
            return try DaemonCommandLine.parse(arguments).arguments
        } catch {
            if DaemonCommandLine.exitCode(for: error) == .success {
                var help = DaemonArguments()
                help.showHelp = true
                return help
            }
            throw .badRequest(DaemonCommandLine.message(for: error))
        }
    }
}

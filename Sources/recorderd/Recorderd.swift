import ArgumentParser
import DaemonControl

/// `recorderd [--socket PATH] [--config FILE.toml] [--output-dir DIR]`.
@main
struct Recorderd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recorderd",
        abstract: "The session recorder daemon: records sessions on request over its control socket.",
        discussion: "Command-line flags win over the config file.")

    @OptionGroup var commandLine: DaemonCommandLine

    func run() throws {
        let status = DaemonMain.run(arguments: commandLine.arguments)
        if status != 0 { throw ExitCode(status) }
    }
}

import Foundation

/// Default locations of the control socket and the output directory.
public enum DaemonPaths {
    /// `$XDG_RUNTIME_DIR/recorder/control.sock`; without XDG_RUNTIME_DIR, the systemd RuntimeDirectory
    /// (`$RUNTIME_DIRECTORY`), else `/run/recorder/control.sock` (root, or a system unit's User=).
    public static func defaultSocketPath(environment: [String: String]) -> String {
        if let runtime = environment["XDG_RUNTIME_DIR"], runtime.hasPrefix("/") {
            return runtime + "/recorder/control.sock"
        }
        if let runtime = environment["RUNTIME_DIRECTORY"]?.split(separator: ":").first, runtime.hasPrefix("/") {
            return runtime + "/control.sock"
        }
        return "/run/recorder/control.sock"
    }

    /// `$STATE_DIRECTORY` (systemd StateDirectory=), else `$XDG_DATA_HOME/recorder`, else
    /// `$HOME/.local/share/recorder`, else `/var/lib/recorder`.
    public static func defaultOutputDirectory(environment: [String: String]) -> String {
        if let state = environment["STATE_DIRECTORY"]?.split(separator: ":").first, state.hasPrefix("/") {
            return String(state)
        }
        if let data = environment["XDG_DATA_HOME"], data.hasPrefix("/") {
            return data + "/recorder"
        }
        if let home = environment["HOME"], home.hasPrefix("/"), home != "/" {
            return home + "/.local/share/recorder"
        }
        return "/var/lib/recorder"
    }

    /// The config file read when `--config` is not given, if it exists: `$CONFIGURATION_DIRECTORY/recorderd.toml`
    /// (systemd ConfigurationDirectory=), else `$XDG_CONFIG_HOME/recorder/recorderd.toml`, else
    /// `$HOME/.config/recorder/recorderd.toml`, else `/etc/recorder/recorderd.toml`.
    public static func defaultConfigPath(environment: [String: String]) -> String {
        if let directory = environment["CONFIGURATION_DIRECTORY"]?.split(separator: ":").first, directory.hasPrefix("/") {
            return directory + "/recorderd.toml"
        }
        if let config = environment["XDG_CONFIG_HOME"], config.hasPrefix("/") {
            return config + "/recorder/recorderd.toml"
        }
        if let home = environment["HOME"], home.hasPrefix("/"), home != "/" {
            return home + "/.config/recorder/recorderd.toml"
        }
        return "/etc/recorder/recorderd.toml"
    }
}

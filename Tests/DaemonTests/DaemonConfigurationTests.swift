import DaemonControl
import Foundation
import RecorderCore
import Testing
import TestSupport

/// The config file, the command line and the mapping of request fields onto session options.
@Suite(.serialized)
struct DaemonConfigurationTests {
    @Test func configFileSetsDefaultsAndResolvesRelativePaths() throws {
        let configuration = try DaemonConfiguration.parse(toml: """
            output_dir = "out"
            socket = "/run/user/1000/recorder/control.sock"
            fps = 30
            codec = "lz4"
            keyframe_interval = 10
            input = ["none"]
            state_config = "probes/game.toml"
            display = ":5"
            redact-keys = true
            motion_reference = true
            [meta]
            site = "lab-3"
            run = 7
            """, source: "test.toml", baseDirectory: "/etc/recorder")
        #expect(configuration.outputDirectory == "/etc/recorder/out")
        #expect(configuration.socketPath == "/run/user/1000/recorder/control.sock")
        let options = configuration.sessionDefaults
        #expect(options.fps == 30)
        #expect(options.codec == .lz4)
        #expect(options.keyframeInterval == 10)
        #expect(options.inputs == [.none])
        #expect(options.stateConfig == "/etc/recorder/probes/game.toml")
        #expect(options.display == ":5")
        #expect(options.redactKeys)
        #expect(options.motionReference == true)
        #expect(options.meta == [.init(key: "run", value: "7"), .init(key: "site", value: "lab-3")])
    }

    @Test func configFileMistakesNameTheKey() {
        let cases: [(String, String)] = [
            ("fps = \"fast\"", "'fps' must be an integer"),
            ("colour = 3", "unknown session option 'colour'"),
            ("fps = 1000", "--fps must be 1 to 240"),
            ("codec = [1]", "'codec' must be one of"),
            ("fps = ", "test.toml"),
            ("split_every = \"soon\"", "'split_every' must be a number of seconds or a duration string"),
            ("split_every = 0.5", "--split-every must be 1 s to 86400 s"),
            ("split_size = \"10\"", "--split-size must be 1.0 MiB to 1.0 TiB"),
            ("split_size = true", "'split_size' must be an integer number of bytes or a size string"),
        ]
        for (text, expected) in cases {
            do {
                _ = try DaemonConfiguration.parse(toml: text, source: "test.toml", baseDirectory: "/")
                Issue.record("accepted \(text)")
            } catch {
                #expect(error.description.contains(expected), "\(text): \(error.description)")
                #expect(error.description.contains("test.toml"), "\(text): \(error.description)")
            }
        }
    }

    @Test func splitFieldsTakeNumbersOrTextInTheConfigFile() throws {
        let text = try DaemonConfiguration.parse(toml: "split_every = \"5m\"\nsplit_size = \"500M\"", source: "test.toml", baseDirectory: "/")
        #expect(text.sessionDefaults.split == SplitPolicy(everySeconds: 300, sizeBytes: 500 << 20))
        let numbers = try DaemonConfiguration.parse(toml: "split_every = 90\nsplit_size = 2097152", source: "test.toml", baseDirectory: "/")
        #expect(numbers.sessionDefaults.split == SplitPolicy(everySeconds: 90, sizeBytes: 2 << 20))
        #expect(try DaemonConfiguration.parse(toml: "fps = 30", source: "test.toml", baseDirectory: "/").sessionDefaults.split == nil)
    }

    @Test func requestFieldsAcceptDashUnderscoreAndRunTogetherNames() throws {
        for key in ["keyframe-interval", "keyframe_interval", "keyframeinterval", "KeyframeInterval"] {
            var options = SessionOptions(output: "")
            try SessionOptionFields.apply(key, .int(5), to: &options, baseDirectory: nil)
            #expect(options.keyframeInterval == 5, "\(key)")
        }
        var options = SessionOptions(output: "")
        try SessionOptionFields.apply("input", ["none"], to: &options, baseDirectory: nil)
        #expect(options.inputs == [.none])
        try SessionOptionFields.apply("input", "replay:/a.desc,/a.events", to: &options, baseDirectory: nil)
        #expect(options.inputs == [.replay(path: "/a.desc", eventsPath: "/a.events")])
        try SessionOptionFields.apply("region", "1,2,30,40", to: &options, baseDirectory: nil)
        #expect(options.region == .init(x: 1, y: 2, width: 30, height: 40))
        try SessionOptionFields.apply("region", [5, 6, 7, 8], to: &options, baseDirectory: nil)
        #expect(options.region == .init(x: 5, y: 6, width: 7, height: 8))
        try SessionOptionFields.apply("meta", ["a=1", "b=x=y"], to: &options, baseDirectory: nil)
        #expect(options.meta == [.init(key: "a", value: "1"), .init(key: "b", value: "x=y")])
        try SessionOptionFields.apply("meta", ["a": "2"], to: &options, baseDirectory: nil)
        #expect(options.meta == [.init(key: "a", value: "2"), .init(key: "b", value: "x=y")])
        try SessionOptionFields.apply("state-config", "/p.toml", to: &options, baseDirectory: nil)
        #expect(options.stateConfig == "/p.toml")
        #expect(throws: ControlError.self) { try SessionOptionFields.apply("state_config", "p.toml", to: &options, baseDirectory: nil) }
        try SessionOptionFields.apply("duration", .double(2.5), to: &options, baseDirectory: nil)
        #expect(options.duration == 2.5)
        try SessionOptionFields.apply("input_focus", "Game", to: &options, baseDirectory: nil)
        #expect(options.inputFocus == "Game")
    }

    @Test func commandLineParsing() throws {
        let parsed = try DaemonArguments.parse(["--socket", "/s.sock", "--config=/c.toml", "--output-dir", "/out"])
        #expect(parsed == DaemonArguments(socketPath: "/s.sock", configPath: "/c.toml", outputDirectory: "/out"))
        #expect(throws: ControlError.self) { try DaemonArguments.parse(["--socket"]) }
        #expect(throws: ControlError.self) { try DaemonArguments.parse(["--frobnicate"]) }
        #expect(try DaemonArguments.parse(["--help"]).showHelp)
    }

    @Test func defaultPaths() {
        #expect(DaemonPaths.defaultSocketPath(environment: ["XDG_RUNTIME_DIR": "/run/user/1000"]) == "/run/user/1000/recorder/control.sock")
        #expect(DaemonPaths.defaultSocketPath(environment: [:]) == "/run/recorder/control.sock")
        #expect(DaemonPaths.defaultSocketPath(environment: ["RUNTIME_DIRECTORY": "/run/recorder"]) == "/run/recorder/control.sock")
        #expect(DaemonPaths.defaultOutputDirectory(environment: ["STATE_DIRECTORY": "/var/lib/recorder", "HOME": "/home/a"]) == "/var/lib/recorder")
        #expect(DaemonPaths.defaultOutputDirectory(environment: ["HOME": "/home/a"]) == "/home/a/.local/share/recorder")
    }

    @Test func commandLineWinsOverConfigAndSighupReloadsIt() throws {
        let daemon = try InProcessDaemon(configTOML: "output_dir = \"from-config\"\nfps = 30\n", useOutputFlag: false)
        let configPath = daemon.directory.appendingPathComponent("recorderd.toml").path
        let first = try #require(try daemon.client().request("{\"command\": \"status\"}"))
        #expect(first["output_dir"]?.stringValue == daemon.directory.appendingPathComponent("from-config").path)

        try "output_dir = \"reloaded\"\n".write(toFile: configPath, atomically: true, encoding: .utf8)
        daemon.daemon.handle(signal: SIGHUP)
        let expected = daemon.directory.appendingPathComponent("reloaded").path
        var seen: String?
        for _ in 0..<50 where seen != expected {
            seen = try daemon.client().request("{\"command\": \"status\"}")?["output_dir"]?.stringValue
            if seen != expected { Thread.sleep(forTimeInterval: 0.1) }
        }
        #expect(seen == expected)

        // A broken file keeps the previous configuration.
        try "fps = \"broken\"\n".write(toFile: configPath, atomically: true, encoding: .utf8)
        daemon.daemon.handle(signal: SIGHUP)
        Thread.sleep(forTimeInterval: 0.5)
        #expect(try daemon.client().request("{\"command\": \"status\"}")?["output_dir"]?.stringValue == expected)
        #expect(daemon.shutdown())

        // --output-dir beats the file.
        let flagged = try InProcessDaemon(configTOML: "output_dir = \"from-config\"\n", useOutputFlag: true)
        #expect(try flagged.client().request("{\"command\": \"status\"}")?["output_dir"]?.stringValue == flagged.outputDirectory)
        #expect(flagged.shutdown())
    }

    @Test func defaultConfigFileIsReadWhenNoConfigFlagIsGiven() throws {
        let configHome = try TestPaths.temporaryDirectory("xdg-config")
        defer { try? FileManager.default.removeItem(at: configHome) }
        try FileManager.default.createDirectory(at: configHome.appendingPathComponent("recorder"), withIntermediateDirectories: true)
        let output = configHome.appendingPathComponent("from-default-config").path
        try "output_dir = \"\(output)\"\n".write(to: configHome.appendingPathComponent("recorder/recorderd.toml"), atomically: true, encoding: .utf8)
        let daemon = try InProcessDaemon(environment: ["XDG_CONFIG_HOME": configHome.path], useOutputFlag: false)
        #expect(try daemon.client().request("{\"command\": \"status\"}")?["output_dir"]?.stringValue == output)
        #expect(FileManager.default.fileExists(atPath: output), "the output directory is created at start-up")
        #expect(daemon.shutdown())
    }
}

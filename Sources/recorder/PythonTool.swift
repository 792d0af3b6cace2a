import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Hands a command to the Python reader package (`recorder_reader`) by replacing this process with it.
///
/// Export and label import live in the reader because the encoders (PyAV's FFmpeg, rerun-sdk) and
/// the one frame decoder that annotation tools already use are Python. `execvp` rather than a
/// child process: the terminal (progress bar), signals and exit status belong to Python directly,
/// and a SIGKILL sent to this pid reaches the process that writes.
enum PythonTool {
    /// Interpreter: `$RECORDER_PYTHON`, else `python3` on PATH.
    static var interpreter: String {
        ProcessInfo.processInfo.environment["RECORDER_PYTHON"] ?? "python3"
    }

    /// Imports the package and runs its CLI; a missing package or dependency is one sentence and exit 69.
    private static let bootstrap = """
        import sys
        try:
            from recorder_reader.cli import main
        except ImportError as error:
            sys.stderr.write("recorder %s: needs the Python package recorder_reader and its dependencies "
                             "(h5py, hdf5plugin, numpy; `pip install ./python` from the recorder sources, "
                             "or `make deps`): %s\\n" % (sys.argv[1], error))
            sys.exit(69)
        sys.exit(main(sys.argv[1:]))
        """

    /// The `python/` folder of a source checkout holding this binary (`.build/<config>/recorder`), if any.
    static func sourcePackageFolder() -> String? {
        guard let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else {
            return nil
        }
        var folder = URL(fileURLWithPath: executable).deletingLastPathComponent()
        for _ in 0..<5 {
            let candidate = folder.appendingPathComponent("python")
            if FileManager.default.fileExists(atPath: candidate.appendingPathComponent("recorder_reader/__init__.py").path) {
                return candidate.path
            }
            folder.deleteLastPathComponent()
        }
        return nil
    }

    /// Replaces this process with `python3 -c BOOTSTRAP ARGUMENTS...`; returns only by exiting when python3 cannot start.
    static func exec(_ arguments: [String]) -> Never {
        if let folder = sourcePackageFolder() {
            let current = ProcessInfo.processInfo.environment["PYTHONPATH"] ?? ""
            setenv("PYTHONPATH", current.isEmpty ? folder : "\(folder):\(current)", 1)
        }
        let argv = [interpreter, "-c", bootstrap] + arguments
        var cArguments = argv.map { strdup($0) }
        cArguments.append(nil)
        execvp(interpreter, &cArguments)
        let reason = String(cString: strerror(errno))
        FileHandle.standardError.write(Data(
            "recorder \(arguments.first ?? ""): cannot run \(interpreter) (\(reason)); install python3 or set RECORDER_PYTHON\n".utf8))
        exit(ExitCodes.unavailable)
    }
}

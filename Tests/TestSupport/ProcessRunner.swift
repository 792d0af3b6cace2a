import Foundation

/// What a finished child process left behind.
public struct ToolResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
}

/// Runs `path` with `arguments` to completion and collects its output.
@discardableResult
public func runTool(_ path: String, _ arguments: [String], environment: [String: String]? = nil, stdin: String? = nil) throws -> ToolResult {
    let (process, out, err) = pipedProcess(path, arguments, environment: environment)
    let input = Pipe()
    process.standardInput = input
    try process.run()
    if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
    try? input.fileHandleForWriting.close()
    // Read both pipes concurrently so a chatty child never blocks on a full pipe.
    let errData = LockedData()
    let errReader = Thread { errData.set(err.fileHandleForReading.readDataToEndOfFile()) }
    errReader.start()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    while !errData.isSet { Thread.sleep(forTimeInterval: 0.001) }
    return ToolResult(
        status: process.terminationStatus,
        stdout: String(decoding: outData, as: UTF8.self),
        stderr: String(decoding: errData.value, as: UTF8.self)
    )
}

/// A process for `path` with `arguments`, `environment` laid over this process's own, and stdout and stderr on
/// fresh pipes; the caller chooses stdin and how to read the pipes.
func pipedProcess(_ path: String, _ arguments: [String], environment: [String: String]?) -> (process: Process, stdout: Pipe, stderr: Pipe) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    if let environment {
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    }
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    return (process, out, err)
}

/// A data buffer filled by one thread and read by another.
final class LockedData: @unchecked Sendable {
    // @unchecked Sendable: every access goes through `lock`.
    private let lock = NSLock()
    private var data = Data()
    private var done = false
    func set(_ value: Data) { lock.lock(); data = value; done = true; lock.unlock() }
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return done }
    var value: Data { lock.lock(); defer { lock.unlock() }; return data }
}

/// Where the package's built products and files live, found from this source file's path.
public enum TestPaths {
    /// The package root.
    public static let packageRoot: URL = {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }()

    /// The folder holding the built `recorder` and `recorderd` (the same configuration as the tests).
    public static var productsDirectory: URL {
        // The test bundle runs from the products folder; Bundle.main's executable is swiftpm-testing-helper or xctest.
        if let override = ProcessInfo.processInfo.environment["RECORDER_PRODUCTS_DIR"] {
            return URL(fileURLWithPath: override)
        }
        for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
            return bundle.bundleURL.deletingLastPathComponent()
        }
        return packageRoot.appendingPathComponent(".build/debug")
    }

    /// The `recorder` CLI built beside the tests.
    public static var recorderCLI: String { productsDirectory.appendingPathComponent("recorder").path }
    /// The `recorderd` daemon built beside the tests.
    public static var recorderDaemon: String { productsDirectory.appendingPathComponent("recorderd").path }
    /// `../shared/fixtures/evemu`.
    public static var evemuFixtures: URL {
        packageRoot.deletingLastPathComponent().appendingPathComponent("shared/fixtures/evemu")
    }

    /// A fresh empty directory under /tmp, removed by the caller.
    public static func temporaryDirectory(_ label: String) throws -> URL {
        let url = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("recorder-\(label)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

/// Runs a Python snippet with h5py/hdf5plugin/numpy available; stdout is usually JSON.
public func runPython(_ script: String, arguments: [String] = []) throws -> ToolResult {
    let pythonPath = TestPaths.packageRoot.appendingPathComponent("python").path
    return try runTool("/usr/bin/env", ["python3", "-c", script] + arguments, environment: ["PYTHONPATH": pythonPath])
}

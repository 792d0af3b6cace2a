import ArgumentParser
import RecorderCore

/// `recorder record`'s upload hook and disk bounds (recorderd takes them from its config file only).
struct FleetOptionArguments: ParsableArguments {
    @Option(name: .customLong("on-part-sealed"),
            help: "Command run for each sealed part of a split session, e.g. 'rclone copy {path} remote:bucket/{session}/'. Split into words like a shell would (quotes, backslashes) but run without one. Placeholders: {path} {file} {session} {session_id} {part} {manifest}.")
    var onPartSealed: String?

    @Option(name: .customLong("upload-timeout"), help: "Seconds one upload attempt may take (default \(Int(UploadHook.defaultTimeoutSeconds))).")
    var uploadTimeout: Double?

    @Option(name: .customLong("upload-attempts"), help: "Attempts per part, with exponential backoff between them (default \(UploadHook.defaultAttempts)).")
    var uploadAttempts: Int?

    @Option(name: .customLong("min-free"), help: "Free space to leave on the output's file system, e.g. 2G; the session ends as disk-full there.")
    var minFree: String?

    @Option(help: "Bytes the output folder may hold (every file in it), e.g. 100G; the session ends as disk-full there.")
    var quota: String?

    @Flag(name: .customLong("delete-uploaded-parts"), help: "Near a bound, delete the oldest parts the hook confirmed uploaded instead of ending.")
    var deleteUploadedParts = false

    /// Adds the hook and the bounds to `options` and checks them; the error names the option.
    func apply(to options: inout SessionOptions) throws(RecorderError) {
        if let onPartSealed {
            options.uploadHook = UploadHook(command: try CommandWords.split(onPartSealed), timeoutSeconds: uploadTimeout ?? UploadHook.defaultTimeoutSeconds,
                                            attempts: uploadAttempts ?? UploadHook.defaultAttempts)
        } else if uploadTimeout != nil || uploadAttempts != nil {
            throw .invalidConfiguration("--upload-timeout and --upload-attempts need --on-part-sealed")
        }
        func size(_ text: String?, _ name: String) throws(RecorderError) -> Int64? {
            guard let text else { return nil }
            guard let bytes = ByteSize.parse(text) else { throw .invalidConfiguration("\(name) must be a size such as 2G or 500M, got '\(text)'") }
            return bytes
        }
        let bounds = DiskBounds(minFreeBytes: try size(minFree, "--min-free"), quotaBytes: try size(quota, "--quota"),
                                deleteUploadedParts: deleteUploadedParts)
        if deleteUploadedParts && (onPartSealed == nil || !bounds.bounds) {
            throw .invalidConfiguration("--delete-uploaded-parts needs --on-part-sealed and --min-free or --quota")
        }
        options.diskBounds = bounds.bounds ? bounds : nil
        try options.validate()
    }
}

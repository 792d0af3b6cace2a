import Foundation
#if canImport(Glibc)
import Glibc
#endif

extension SessionManifest {
    /// Encodes with sorted keys and indentation (people open it).
    public func encoded() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        return (try? encoder.encode(self)) ?? Data("{}".utf8)
    }

    /// Replaces the manifest at `path` atomically.
    public func write(to path: String) throws(RecorderError) {
        try AtomicFile.write(encoded() + Data("\n".utf8), to: path)
    }

    /// Reads and checks a manifest: bounded size, known format and version, part names that stay in
    /// the manifest's folder, numbers in range and in order.
    public static func read(from path: String) throws(RecorderError) -> SessionManifest {
        let data = try AtomicFile.read(path, limit: maxBytes)
        let manifest: SessionManifest
        do {
            manifest = try JSONDecoder().decode(SessionManifest.self, from: data)
        } catch {
            throw .storage("\(TerminalText.escaped(path)) is not a session manifest: \(TerminalText.escaped(String(describing: error).prefix(300).description))")
        }
        try manifest.check(source: path)
        return manifest
    }

    /// The checks `read` makes, for a manifest built in memory too.
    public func check(source: String) throws(RecorderError) {
        let where_ = TerminalText.escaped(source)
        guard format == Self.formatName else { throw .storage("\(where_): format is not \(Self.formatName)") }
        guard version == Self.currentVersion else { throw .storage("\(where_): manifest version \(version) is not \(Self.currentVersion)") }
        guard parts.count <= Self.maxParts else { throw .storage("\(where_): \(parts.count) parts; at most \(Self.maxParts)") }
        for (index, part) in parts.enumerated() {
            guard part.number == index + 1 else {
                throw .storage("\(where_): part \(index + 1) is numbered \(part.number)")
            }
            guard let parsed = Self.parsePartFileName(part.file), parsed.number == part.number, !part.file.contains("/") else {
                throw .storage("\(where_): part \(part.number) names '\(TerminalText.escaped(part.file))', not a part file of this folder")
            }
            guard part.frames >= 0, part.events >= 0, part.samples >= 0, part.bytes >= 0 else {
                throw .storage("\(where_): part \(part.number) has a negative count")
            }
        }
    }

    /// The files of a split session recorded with `--output output` that already exist (the manifest,
    /// the first part): a new session of that name, split or not, must not start over them.
    public static func existingPaths(output: String) -> [String] {
        [manifestPath(output: output), partPath(output: output, number: 1)].filter { path in
            var status = stat()
            return lstat(path, &status) == 0
        }
    }
}

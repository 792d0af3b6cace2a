#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// The session files of an output directory: regular `*.h5` files directly inside it.
enum SessionDirectory {
    struct Entry: Sendable, Equatable {
        let name: String
        let path: String
        let size: Int64
        /// Modification time, ns since the epoch.
        let modified: Int64
    }

    /// Every regular `NAME.h5` in `directory`, sorted by name; symlinks and other files are skipped.
    static func sessionFiles(in directory: String) -> [Entry] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        var entries: [Entry] = []
        for file in names where file.hasSuffix(".h5") && file.count > 3 {
            let path = directory + "/" + file
            var status = stat()
            guard lstat(path, &status) == 0, status.st_mode & S_IFMT == S_IFREG else { continue }
            let modified = Int64(status.st_mtim.tv_sec) * 1_000_000_000 + Int64(status.st_mtim.tv_nsec)
            entries.append(Entry(name: String(file.dropLast(3)), path: path, size: Int64(status.st_size), modified: modified))
        }
        return entries.sorted { $0.name < $1.name }
    }

    /// Free bytes on the filesystem holding `path`.
    static func freeBytes(at path: String) -> Int64? {
        var info = statvfs()
        guard statvfs(path, &info) == 0 else { return nil }
        return Int64(info.f_bavail) * Int64(info.f_frsize)
    }

    /// ISO 8601 UTC text for ns since the epoch.
    static func utcText(_ nanoseconds: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date(timeIntervalSince1970: Double(nanoseconds) / 1e9))
    }
}

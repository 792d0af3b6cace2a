#if canImport(Glibc)
import Glibc
#endif

/// The bytes a folder's files hold, as a quota counts them: regular files (their size), in the folder
/// and one level of subfolders (`damaged/`), never through a symlink, at most `maxEntries` looked at.
public enum FolderUsage {
    public static let maxEntries = 200_000

    /// Total size of the regular files under `folder`, leaving out the top-level file `excluded`.
    public static func bytes(in folder: String, excluding excluded: String? = nil) -> Int64 {
        var budget = maxEntries
        return bytes(in: folder, excluding: excluded, depth: 1, budget: &budget)
    }

    private static func bytes(in folder: String, excluding excluded: String?, depth: Int, budget: inout Int) -> Int64 {
        let fd = open(folder, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0, let directory = fdopendir(fd) else {
            if fd >= 0 { close(fd) }
            return 0
        }
        defer { closedir(directory) }
        var total: Int64 = 0
        var subfolders: [String] = []
        while budget > 0, let entry = readdir(directory) {
            budget -= 1
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
            if name == "." || name == ".." || name == excluded { continue }
            var info = stat()
            guard fstatat(dirfd(directory), name, &info, AT_SYMLINK_NOFOLLOW) == 0 else { continue }
            switch info.st_mode & S_IFMT {
            case S_IFREG: total += Int64(info.st_size)
            case S_IFDIR where depth > 0: subfolders.append(name)
            default: break
            }
        }
        for name in subfolders {
            total += bytes(in: folder + "/" + name, excluding: nil, depth: depth - 1, budget: &budget)
        }
        return total
    }
}

#if canImport(Glibc)
import Glibc
#endif
import Foundation
import RecorderCore

/// A file of the output directory that could not be read or recovered, and where it went.
struct DamagedFile: Error, CustomStringConvertible {
    var message: String
    var description: String { message }

    /// The folder, inside the output directory, that holds files set aside at start-up.
    static let folderName = "damaged"

    /// Moves `path` into `damaged/` beside it (never replacing a file there) and returns the new path.
    /// Once there it is no longer a session of the directory: not listed, not recovered again.
    static func setAside(_ path: String) throws(DamagedFile) -> String {
        let directory = (path as NSString).deletingLastPathComponent
        let name = (path as NSString).lastPathComponent
        let folder = directory + "/" + folderName
        if mkdir(folder, 0o700) != 0 && errno != EEXIST {
            throw DamagedFile(message: "cannot create \(folder): \(errnoText(errno))")
        }
        for attempt in 0..<100 {
            let target = folder + "/" + (attempt == 0 ? name : "\(name).\(attempt)")
            // link + unlink: never replaces an existing file (rename would).
            if link(path, target) == 0 {
                unlink(path)
                return target
            }
            guard errno == EEXIST else { throw DamagedFile(message: "cannot move \(path) to \(target): \(errnoText(errno))") }
        }
        throw DamagedFile(message: "cannot move \(path) into \(folder): too many files of that name")
    }
}

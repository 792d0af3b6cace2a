import Foundation
import Logging
import RecorderCore
#if canImport(Glibc)
import Glibc
#endif

/// The fleet half of a split session, run by the part keeper (`rec-parts`): hands each sealed part
/// to the `on_part_sealed` hook (`UploadScheduler`) and, with `delete_uploaded_parts`, deletes the
/// oldest parts the hook confirmed once the disk bounds come near, so the session goes on.
///
/// `@unchecked Sendable`: the `PartKeeper.Extension` contract calls every method on `rec-parts`
/// only, so its mutable state (the scheduler, the children) is confined to that one thread.
final class PartFleetExtension: PartKeeper.Extension, @unchecked Sendable {
    private let hook: UploadHook?
    private let budget: DiskBudget?
    private let deleteUploaded: Bool
    /// The output folder: parts, manifest.
    private let folder: String
    private let logger: Logger
    private let notes: NoteSink
    /// Size of the part being written, as the writer last published it.
    private let activeFileBytes: @Sendable () -> Int64
    /// Made at the first sealed part, when the manifest names the session.
    private var scheduler: UploadScheduler?

    init(options: SessionOptions, budget: DiskBudget?, notes: BoundedMailbox<SessionNote>, logger: Logger,
         activeFileBytes: @escaping @Sendable () -> Int64) {
        hook = options.uploadHook
        self.budget = budget
        deleteUploaded = options.diskBounds?.deleteUploadedParts == true && options.uploadHook != nil && budget != nil
        folder = (options.output as NSString).deletingLastPathComponent
        self.logger = logger
        self.notes = NoteSink(source: "parts", logger: logger, mailbox: notes)
        self.activeFileBytes = activeFileBytes
    }

    /// True when `options` ask for anything this extension does.
    static func isWanted(by options: SessionOptions) -> Bool {
        options.uploadHook != nil || options.diskBounds?.deleteUploadedParts == true
    }

    func partSealed(_ part: SessionManifest.Part, manifest: inout SessionManifest) -> Bool {
        guard let hook else { return false }
        if scheduler == nil {
            scheduler = UploadScheduler(
                hook: hook, session: UploadScheduler.Session(folder: Self.absolute(folder), name: manifest.name, sessionID: manifest.sessionID),
                logger: logger, note: { [notes] kind, message in notes.post(kind, message) })
        }
        guard let change = scheduler?.submit(part) else { return false }
        return apply([change], to: &manifest)
    }

    func poll(now: Int64, manifest: inout SessionManifest) -> Bool {
        var changed = apply(scheduler?.poll(now: now) ?? [], to: &manifest)
        if deleteUploaded { changed = deleteUploadedParts(&manifest) || changed }
        return changed
    }

    func drain(deadline: Int64, manifest: inout SessionManifest) -> Bool {
        apply(scheduler?.drain(deadline: deadline) ?? [], to: &manifest)
    }

    private func apply(_ changes: [UploadScheduler.Change], to manifest: inout SessionManifest) -> Bool {
        for change in changes {
            guard let index = manifest.parts.firstIndex(where: { $0.number == change.part }) else { continue }
            let deleted = manifest.parts[index].upload?.deleted
            manifest.parts[index].upload = change.upload
            manifest.parts[index].upload?.deleted = deleted
        }
        return !changes.isEmpty
    }

    /// Deletes the oldest confirmed parts while the headroom is below one part's size.
    ///
    /// Only a part the manifest lists as uploaded, whose name parses as this session's part of that
    /// number, and which is a regular file (never a symlink) is deleted.
    private func deleteUploadedParts(_ manifest: inout SessionManifest) -> Bool {
        guard let budget, var room = budget.headroom(freeBytes: Self.freeBytes(folder), activeFileBytes: activeFileBytes()) else { return false }
        let margin = max(Int64(1 << 20), manifest.parts.map(\.bytes).max() ?? 0)
        guard room < margin else { return false }
        var changed = false
        for index in manifest.parts.indices where room < margin {
            let part = manifest.parts[index]
            guard part.upload?.state == "uploaded", part.upload?.deleted != true, part.state != "recording",
                  let parsed = SessionManifest.parsePartFileName(part.file), parsed.session == manifest.name,
                  parsed.number == part.number else { continue }
            let path = (folder as NSString).appendingPathComponent(part.file)
            var info = stat()
            guard lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { continue }
            guard unlink(path) == 0 else {
                logger.error("cannot delete uploaded part \(path): \(errnoText())")
                continue
            }
            manifest.parts[index].upload?.deleted = true
            budget.removed(bytes: Int64(info.st_size))
            room += Int64(info.st_size)
            changed = true
            notes.post("part-deleted", "part \(part.number) (\(part.file), \(ByteSize.describe(Int64(info.st_size)))) deleted after its upload to stay within the disk bounds", level: .info)
        }
        return changed
    }

    private static func freeBytes(_ folder: String) -> Int64? {
        var info = statvfs()
        guard statvfs(folder.isEmpty ? "." : folder, &info) == 0 else { return nil }
        return Int64(info.f_bavail) * Int64(info.f_frsize)
    }

    private static func absolute(_ folder: String) -> String {
        folder.hasPrefix("/") ? folder : (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(folder.isEmpty ? "." : folder)
    }
}

import Foundation
import RecorderCore
import Testing
import TestSupport

/// `DiskBudget`, `FolderUsage`, and the checks of `DiskBounds` and `UploadHook`.
@Suite(.serialized)
final class DiskBudgetTests {
    let directory: URL

    init() throws {
        directory = try TestPaths.temporaryDirectory("budget")
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    private func write(_ name: String, bytes: Int) throws {
        try Data(count: bytes).write(to: directory.appendingPathComponent(name))
    }

    @Test func theFolderIsMeasuredWithoutTheActiveFileOrSymlinksAndOneLevelDown() throws {
        try write("a.h5", bytes: 1000)
        try write("active.h5", bytes: 50_000)
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("damaged"), withIntermediateDirectories: true)
        try write("damaged/b.h5", bytes: 300)
        try FileManager.default.createSymbolicLink(atPath: directory.appendingPathComponent("link").path, withDestinationPath: "/etc/passwd")
        #expect(FolderUsage.bytes(in: directory.path, excluding: "active.h5") == 1300)
        let budget = DiskBudget(bounds: DiskBounds(quotaBytes: 1 << 20), folder: directory.path, activeFile: "active.h5")
        budget.measure()
        #expect(budget.otherFolderBytes == 1300)
        #expect(budget.headroom(freeBytes: nil, activeFileBytes: 50_000) == Int64(1 << 20) - Int64(51_300))
    }

    @Test func theQuotaRefusesTheByteThatWouldCrossItAndNamesIt() throws {
        let budget = DiskBudget(bounds: DiskBounds(quotaBytes: 10 << 30), folder: "/var/lib/recorder", activeFile: "x.h5")
        budget.rolledOver(sealedBytes: 6 << 30, activeFile: "y.h5")
        #expect(budget.refusal(freeBytes: 1 << 40, activeFileBytes: 3 << 30, nextBytes: 1 << 29) == nil)
        let refusal = try #require(budget.refusal(freeBytes: 1 << 40, activeFileBytes: 4 << 30, nextBytes: 1))
        #expect(refusal.contains("quota 10.0 GiB of /var/lib/recorder reached"))
        budget.removed(bytes: 6 << 30)
        #expect(budget.refusal(freeBytes: 1 << 40, activeFileBytes: 4 << 30, nextBytes: 1) == nil)
    }

    @Test func minFreeRefusesBelowTheBound() throws {
        let budget = DiskBudget(bounds: DiskBounds(minFreeBytes: 2 << 30), folder: "/data", activeFile: "x.h5")
        #expect(budget.refusal(freeBytes: 3 << 30, activeFileBytes: 0, nextBytes: 1 << 20) == nil)
        let refusal = try #require(budget.refusal(freeBytes: 2 << 30, activeFileBytes: 0, nextBytes: 1))
        #expect(refusal.contains("min_free 2.0 GiB"))
        #expect(budget.headroom(freeBytes: 3 << 30, activeFileBytes: 0) == 1 << 30)
    }

    @Test func aWalkThatRacesARolloverIsDropped() throws {
        try write("old.h5", bytes: 10)
        let budget = DiskBudget(bounds: DiskBounds(quotaBytes: 1 << 20), folder: directory.path, activeFile: "new.h5")
        budget.measure()
        #expect(budget.otherFolderBytes == 10)
        budget.rolledOver(sealedBytes: 500, activeFile: "newer.h5")
        #expect(budget.otherFolderBytes == 510)
    }

    @Test(arguments: [
        (DiskBounds(minFreeBytes: -1), "min_free"),
        (DiskBounds(quotaBytes: 10), "quota"),
        (DiskBounds(quotaBytes: .max), "quota"),
    ])
    func hostileBoundsAreRefused(bounds: DiskBounds, name: String) {
        #expect(throws: RecorderError.self) { try bounds.validate() }
        do { try bounds.validate() } catch { #expect(error.description.contains(name)) }
    }

    @Test(arguments: [
        (UploadHook(command: []), "1 to 256 arguments"),
        (UploadHook(command: [""]), "program"),
        (UploadHook(command: ["rclone", "{paht}"]), "unknown placeholder {paht}"),
        (UploadHook(command: ["true"], timeoutSeconds: -1), "upload_timeout"),
        (UploadHook(command: ["true"], timeoutSeconds: .infinity), "upload_timeout"),
        (UploadHook(command: ["true"], attempts: 0), "upload_attempts"),
        (UploadHook(command: ["true"], attempts: 1_000_000), "upload_attempts"),
        (UploadHook(command: ["true"], concurrency: 99), "upload_concurrency"),
        (UploadHook(command: ["a\u{0}b"]), "NUL"),
        (UploadHook(command: ["true", String(repeating: "x", count: 5000)]), "longer than"),
    ])
    func hostileHooksAreRefused(hook: UploadHook, expected: String) {
        do {
            try hook.validate()
            Issue.record("accepted \(hook)")
        } catch {
            #expect(error.description.contains(expected), "\(error.description)")
        }
    }

    @Test func placeholdersAreReplacedAndOtherBracesKept() {
        let hook = UploadHook(command: ["rclone", "copy", "{path}", "remote:bucket/{session}/", "{x}", "{", "{part}{part}"])
        let argv = hook.arguments(for: UploadHook.Placeholders(path: "/d/s.part0002.h5", session: "s", sessionID: "id", part: 2, manifest: "/d/s.manifest.json"))
        #expect(argv == ["rclone", "copy", "/d/s.part0002.h5", "remote:bucket/s/", "{x}", "{", "22"])
        #expect(hook.backoff(afterAttempt: 1) == 2)
        #expect(hook.backoff(afterAttempt: 3) == 8)
        #expect(hook.backoff(afterAttempt: 60) == UploadHook.maxBackoffSeconds)
    }
}

import Foundation
import RecorderCore
import Testing
import TestSupport

/// `recorder record` with split parts, an upload hook and disk bounds, end to end: a real recorder on
/// a private Xvfb, real /bin/sh hooks.
@Suite(.serialized)
final class FleetRecordTests {
    let directory: URL
    let scripts: HookScripts

    init() throws {
        directory = try TestPaths.temporaryDirectory("fleet")
        scripts = HookScripts(directory: directory)
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    private func folder(_ name: String) throws -> String {
        let path = directory.appendingPathComponent(name).path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    private func movingScene(on display: XvfbDisplay) throws -> BackgroundProcess {
        let scene = try BackgroundProcess("/usr/bin/env", ["python3", TestScripts.movingScene, display.name, "120"])
        #expect(scene.waitForOutput("ready", timeout: 60), "\(scene.stderr)")
        return scene
    }

    private func record(_ display: XvfbDisplay, output: String, _ extra: [String]) throws -> (ToolResult, [String: Any]) {
        let result = try runTool(TestPaths.recorderCLI, ["record", "--display", display.name, "--output", output, "--input", "none", "--quiet", "--json"] + extra)
        let report = (try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8))) as? [String: Any] ?? [:]
        return (result, report)
    }

    /// Every part's summary must account for each tick of its range: stored or reported lost.
    private func expectUndisturbed(_ manifest: SessionManifest, folder: String) throws {
        let parts = manifest.parts.filter { $0.upload?.deleted != true }
        #expect(!parts.isEmpty)
        for part in parts {
            #expect(part.state == "sealed", "part \(part.number) is \(part.state)")
            let accounting = try TickAccounting(file: folder + "/" + part.file)
            #expect(accounting.ticksIncrease && accounting.framesInSummary == accounting.frames, "\(part.file): \(accounting)")
            #expect(Int64(accounting.frames) == part.frames, "\(part.file): the manifest's count")
        }
        // Ticks continue from part to part: no tick is stored twice, none vanishes at a boundary.
        for (earlier, later) in zip(parts, parts.dropFirst()) where later.number == earlier.number + 1 {
            if let last = earlier.lastTick, let first = later.firstTick { #expect(first > last) }
            #expect(later.previousPartLastTick == earlier.lastTick ?? later.previousPartLastTick)
        }
    }

    @Test func aHookThatSucceedsGetsEveryPartAndTheManifestSaysUploaded() throws {
        let display = try XvfbDisplay(width: 320, height: 240)
        defer { display.stop() }
        let scene = try movingScene(on: display)
        defer { scene.terminate() }
        let out = try folder("ok")
        let remote = try folder("remote")
        let hook = try scripts.copying(to: remote)
        let (result, report) = try record(display, output: out + "/s.h5", [
            "--duration", "4", "--split-every", "1",
            "--on-part-sealed", "\(hook) {path} {file} {part} {session} {session_id} '{manifest}'",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(report["cleanShutdown"] as? Bool == true)
        let manifest = try SessionManifest.read(from: out + "/s.manifest.json")
        #expect(manifest.parts.count >= 3, "\(manifest.parts.map(\.file))")
        for part in manifest.parts {
            #expect(part.upload?.state == "uploaded", "part \(part.number): \(String(describing: part.upload))")
            #expect(FileManager.default.contentsEqual(atPath: out + "/" + part.file, andPath: remote + "/" + part.file))
            let args = try String(contentsOfFile: remote + "/args-\(part.number)", encoding: .utf8).split(separator: "\n").map(String.init)
            #expect(args == [out + "/" + part.file, part.file, "\(part.number)", "s", manifest.sessionID, out + "/s.manifest.json"])
        }
        try expectUndisturbed(manifest, folder: out)
    }

    @Test func hooksThatFailOrHangLeaveTheRecordingAloneAndTheReasonInTheManifest() throws {
        let display = try XvfbDisplay(width: 320, height: 240)
        defer { display.stop() }
        let scene = try movingScene(on: display)
        defer { scene.terminate() }
        let failing = try scripts.script("fail.sh", "echo \"bucket refused $1\" >&2; exit 1")
        let out = try folder("fail")
        let (failed, _) = try record(display, output: out + "/f.h5", [
            "--duration", "3", "--split-every", "1", "--on-part-sealed", "\(failing) {file}", "--upload-attempts", "2",
        ])
        #expect(failed.status == 0, "an uploader's failure is not the session's: \(failed.stderr)")
        let failedManifest = try SessionManifest.read(from: out + "/f.manifest.json")
        let first = try #require(failedManifest.parts.first?.upload)
        #expect(first.state == "failed")
        #expect(first.attempts == 2)
        #expect(first.lastError?.contains("bucket refused f.part0001.h5") == true, "\(String(describing: first.lastError))")
        try expectUndisturbed(failedManifest, folder: out)

        let hanging = try scripts.script("hang.sh", "trap '' TERM; sleep 1000")
        let hangOut = try folder("hang")
        let (hung, report) = try record(display, output: hangOut + "/h.h5", [
            "--duration", "4", "--split-every", "1", "--on-part-sealed", hanging, "--upload-timeout", "0.5", "--upload-attempts", "1",
        ])
        #expect(hung.status == 0, "\(hung.stderr)")
        #expect(report["cleanShutdown"] as? Bool == true)
        let hungManifest = try SessionManifest.read(from: hangOut + "/h.manifest.json")
        let hungFirst = try #require(hungManifest.parts.first?.upload)
        #expect(hungFirst.state == "failed")
        #expect(hungFirst.lastError?.contains("timed out") == true, "\(String(describing: hungFirst.lastError))")
        try expectUndisturbed(hungManifest, folder: hangOut)
    }

    @Test func theQuotaEndsTheSessionCleanlyAndNamesItself() throws {
        let display = try XvfbDisplay(width: 320, height: 240)
        defer { display.stop() }
        let scene = try movingScene(on: display)
        defer { scene.terminate() }
        let out = try folder("quota")
        let file = out + "/q.h5"
        let (result, report) = try record(display, output: file, [
            "--duration", "60", "--codec", "none", "--keyframe-interval", "1", "--quota", "3M",
        ])
        #expect(result.status == 1, "disk-full is a failed session: \(result.stderr)")
        #expect(report["endReason"] as? String == "disk-full")
        let plain = try sessionCheck("plain-open", file)
        let attrs = plain["attrs"] as? [String: Any] ?? [:]
        #expect(attrs["end_reason"] as? String == "disk-full")
        #expect(attrs["clean_shutdown"] as? Int == 1)
        #expect((attrs["end_detail"] as? String)?.contains("quota 3.0 MiB of \(out) reached") == true, "\(attrs)")
        #expect((plain["frames"] as? Int ?? 0) > 0)
        let size = (try FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? .max
        #expect(size <= 3 << 20 + (1 << 20), "the file stays near the quota: \(size)")
    }

    @Test func deleteUploadedPartsRemovesOnlyConfirmedPartsAndTheSessionGoesOn() throws {
        let display = try XvfbDisplay(width: 320, height: 240)
        defer { display.stop() }
        let scene = try movingScene(on: display)
        defer { scene.terminate() }
        let out = try folder("delete")
        let remote = try folder("remote-delete")
        let hook = try scripts.copying(to: remote)
        // A stranger's file in the folder counts toward the quota and is never deleted.
        let stranger = out + "/notes.part0001.h5"
        try Data(count: 100_000).write(to: URL(fileURLWithPath: stranger))
        let (result, report) = try record(display, output: out + "/d.h5", [
            "--duration", "8", "--fps", "5", "--codec", "none", "--keyframe-interval", "1", "--split-every", "1",
            "--quota", "6M", "--on-part-sealed", "\(hook) {path} {file} {part} {session}", "--delete-uploaded-parts",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(report["endReason"] as? String == "duration", "\(report)")
        let manifest = try SessionManifest.read(from: out + "/d.manifest.json")
        let deleted = manifest.parts.filter { $0.upload?.deleted == true }
        #expect(!deleted.isEmpty, "\(manifest.parts.map { "\($0.file) \($0.bytes) \(String(describing: $0.upload))" })")
        for part in deleted {
            #expect(part.upload?.state == "uploaded")
            #expect(!FileManager.default.fileExists(atPath: out + "/" + part.file))
            #expect(FileManager.default.fileExists(atPath: remote + "/" + part.file))
        }
        for part in manifest.parts where part.upload?.deleted != true {
            #expect(FileManager.default.fileExists(atPath: out + "/" + part.file))
        }
        #expect(FileManager.default.fileExists(atPath: stranger))
    }
}

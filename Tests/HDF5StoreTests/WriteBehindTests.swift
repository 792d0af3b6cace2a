import Foundation
import HDF5Store
import RecorderCore
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// The writer's write-behind: a session's written bytes leave the page cache behind it, and the file
/// reads back exactly.
@Suite(.serialized)
struct WriteBehindTests {
    static let width = 640, height = 480, count = 130
    static let window: Int64 = 8 << 20
    /// The newest window, plus a step still waiting to be dropped and metadata the seal wrote behind the window.
    static let cachedBound = window + WriteBehind.stepBytes + (4 << 20)

    @Test("a long session keeps only its newest bytes in the page cache, and every frame reads back exactly")
    func writtenBytesLeaveThePageCache() throws {
        let directory = try TestPaths.temporaryDirectory("writebehind")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("w.h5").path
        let harness = try record(path: path, split: nil)
        let cached = try cachedBytes(path)
        #expect(cached.size > 100 << 20)
        try expectTrimmed(cached)
        let expectedPath = directory.appendingPathComponent("expected.rgb").path
        try harness.saveExpected(to: expectedPath)
        let run = try runPython(PythonChecks.frames, arguments: [path, expectedPath, "\(Self.width)", "\(Self.height)", "\(harness.startNs)"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect((parseJSON(run.stdout)["bad"] as? [Int]) == [], "frames that differ")
    }

    @Test("a split session's write-behind follows each new part")
    func everyPartLeavesThePageCache() throws {
        let directory = try TestPaths.temporaryDirectory("writebehind-parts")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("s.h5").path
        _ = try record(path: path, split: .init(sessionID: "write-behind-test", policy: SplitPolicy(sizeBytes: 40 << 20)))
        var number = 1
        while FileManager.default.fileExists(atPath: SessionManifest.partPath(output: path, number: number)) {
            let cached = try cachedBytes(SessionManifest.partPath(output: path, number: number))
            if cached.size > 2 * Self.cachedBound { try expectTrimmed(cached, part: number) }
            number += 1
        }
        #expect(number - 1 >= 3, "117 MB in parts of 40 MiB")
    }

    /// Writes `count` keyframes, uncompressed, so every frame adds its whole 900 KiB to the file.
    private func record(path: String, split: WriterConfiguration.Parts?) throws -> WriterHarness {
        let (width, height) = (Self.width, Self.height)
        var configuration = WriterHarness.configuration(path: path, width: width, height: height, codec: .none, interval: 1)
        configuration.pageCacheWindowBytes = Self.window
        configuration.parts = split
        let harness = WriterHarness(configuration: configuration)
        #expect(try harness.start() == .ready)
        var generator = SplitMix(seed: 11)
        let base = (0..<(width * height * 3)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        for i in 0..<Self.count {
            var rgb = base
            rgb[0] = UInt8(truncatingIfNeeded: i)
            rgb[1] = UInt8(truncatingIfNeeded: i >> 8)
            harness.push { slot in
                ScreenLikeFrames.paint(rgb, into: slot, width: width, height: height, stride: harness.stride)
                return rgb
            }
        }
        let result = try #require(harness.finish())
        #expect(result.framesWritten == Int64(Self.count))
        return harness
    }

    private func expectTrimmed(_ cached: (size: Int64, resident: Int64, onTmpfs: Bool), part: Int? = nil) throws {
        if cached.onTmpfs {
            // tmpfs pages are the file itself; nothing can be dropped there.
            Issue.record("the temporary directory is on tmpfs, where the page cache cannot be trimmed")
            return
        }
        #expect(cached.resident <= Self.cachedBound,
                "\(part.map { "part \($0): " } ?? "")\(cached.resident >> 20) MiB of a \(cached.size >> 20) MiB file still cached")
    }

    /// The file's size and how many of its bytes are in the page cache (mincore), and whether it is on tmpfs.
    private func cachedBytes(_ path: String) throws -> (size: Int64, resident: Int64, onTmpfs: Bool) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw POSIXError(.EIO) }
        defer { close(descriptor) }
        var info = stat()
        fstat(descriptor, &info)
        let fileSystem = try runTool("/usr/bin/stat", ["-f", "-c", "%T", path]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let size = Int64(info.st_size)
        let page = Int64(sysconf(Int32(_SC_PAGESIZE)))
        guard let mapped = mmap(nil, Int(size), PROT_READ, MAP_SHARED, descriptor, 0), mapped != MAP_FAILED else {
            throw POSIXError(.ENOMEM)
        }
        defer { munmap(mapped, Int(size)) }
        var vector = [UInt8](repeating: 0, count: Int((size + page - 1) / page))
        guard mincore(mapped, Int(size), &vector) == 0 else { throw POSIXError(.EINVAL) }
        let resident = Int64(vector.filter { $0 & 1 == 1 }.count) * page
        return (size, resident, fileSystem == "tmpfs")
    }
}

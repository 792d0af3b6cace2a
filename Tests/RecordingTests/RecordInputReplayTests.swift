import Foundation
import Testing
import TestSupport

/// The real evemu fixtures replayed through `recorder record --input replay:` land in /input/events exactly.
@Suite(.serialized)
final class RecordInputReplayTests {
    /// (type, code, value) and relative time of every E: line of an evemu file.
    static func fixtureEvents(_ path: String) throws -> [(t: Double, type: Int, code: Int, value: Int)] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").compactMap { line in
            guard line.hasPrefix("E:") else { return nil }
            let parts = line.split(separator: "#")[0].split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard parts.count >= 5, let t = Double(parts[1]), let type = Int(parts[2], radix: 16),
                  let code = Int(parts[3], radix: 16), let value = Int(parts[4]) else {
                throw CheckFailure(message: "bad fixture line: \(line)")
            }
            return (t, type, code, value)
        }
    }

    @Test func everyFixtureLandsEventForEvent() throws {
        let display = try XvfbDisplay(width: 160, height: 120)
        defer { display.stop() }
        let directory = try TestPaths.temporaryDirectory("replay")
        defer { try? FileManager.default.removeItem(at: directory) }
        let fixtures = TestPaths.evemuFixtures
        let sources: [(arg: String, events: String)] = [
            ("replay:\(fixtures.path)/logitech-k400-plus.events", "logitech-k400-plus.events"),
            ("replay:\(fixtures.path)/madcatz-xbox360-pad.events", "madcatz-xbox360-pad.events"),
            ("replay:\(fixtures.path)/ps2-generic-mouse.desc,\(fixtures.path)/ps2-generic-mouse.events", "ps2-generic-mouse.events"),
            ("replay:\(fixtures.path)/saitek-rat5-mouse.desc,\(fixtures.path)/saitek-rat5-mouse.events", "saitek-rat5-mouse.events"),
        ]
        let file = directory.appendingPathComponent("replay.h5").path
        // The PS/2 recording spans 53 s: record until every replay has ended like an unplugged device
        // (its note says so), however late a loaded machine gets there, then stop.
        let recorder = try BackgroundProcess(TestPaths.recorderCLI, ["record", "--display", display.name, "--output", file, "--fps", "10", "--quiet"]
                                             + sources.flatMap { ["--input", $0.arg] })
        defer { recorder.terminate() }
        let deadline = Date().addingTimeInterval(180)
        while recorder.isRunning && Date() < deadline && recorder.stderr.components(separatedBy: "replay finished").count <= sources.count {
            Thread.sleep(forTimeInterval: 0.1)
        }
        #expect(recorder.stderr.components(separatedBy: "replay finished").count > sources.count, "\(recorder.stderr)")
        recorder.send(SIGINT)
        #expect(recorder.waitForExit(timeout: 60) == 0, "\(recorder.stderr)")
        let stored = try sessionCheck("events", file)
        let rows = stored["events"] as? [[Int]] ?? []
        let devices = stored["devices"] as? [[String: Any]] ?? []
        #expect(devices.count == sources.count)
        for source in sources {
            guard let device = devices.first(where: { ($0["path"] as? String ?? "").hasSuffix(source.events) || ($0["path"] as? String ?? "").contains(source.arg.dropFirst("replay:".count).split(separator: ",")[0]) }),
                  let id = device["id"] as? Int else {
                Issue.record("no device row for \(source.events): \(devices)")
                continue
            }
            let expected = try Self.fixtureEvents(fixtures.appendingPathComponent(source.events).path)
            let got = rows.filter { $0[1] == id }
            #expect(got.count == expected.count, "\(source.events): \(got.count) stored, \(expected.count) recorded")
            let mismatches = zip(got, expected).filter { $0.0[2] != $0.1.type || $0.0[3] != $0.1.code || $0.0[4] != $0.1.value }.count
            #expect(mismatches == 0, "\(source.events): \(mismatches) events differ in type, code or value")
            guard let firstGot = got.first, let firstExpected = expected.first else { continue }
            var worstSpacingError = 0.0
            for (g, e) in zip(got, expected) {
                let storedOffset = Double(g[0] - firstGot[0]) / 1e9
                let recordedOffset = e.t - firstExpected.t
                worstSpacingError = max(worstSpacingError, abs(storedOffset - recordedOffset))
            }
            #expect(worstSpacingError < 0.002, "\(source.events): timestamps drift \(worstSpacingError * 1000) ms from the recording")
        }
    }
}

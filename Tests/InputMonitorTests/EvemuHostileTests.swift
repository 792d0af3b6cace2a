import Foundation
import Testing
import TestSupport
@testable import InputMonitor
@testable import RecorderCore

/// Hostile and broken evemu files: a clear error naming the file and line, never a trap.
@Suite struct EvemuHostileTests {
    private static let head = "# EVEMU 1.3\nN: Pad\nI: 0003 0001 0002 0003\n"
    private static let tail = "E: 0.000001 0000 0000 0\n"

    private func failure(_ text: String) -> String {
        do {
            let recording = try EvemuRecording.parse(description: text, descriptionName: "hostile.evemu")
            return "unexpectedly valid: \(recording.name)"
        } catch {
            return error.description
        }
    }

    @Test(arguments: ["B: 01 ff ff ff ff ff ff ff ff", "P: ff ff ff ff ff ff ff ff"])
    func elevenHundredMaskLinesAreRefusedAtTheFirstLineTooMany(line: String) {
        let text = Self.head + String(repeating: line + "\n", count: 1100) + Self.tail
        let message = failure(text)
        // 12 lines of 8 bytes cover codes 0 to KEY_MAX; line 4 + 12 is the first beyond.
        #expect(message.contains("hostile.evemu:16:"), "\(message)")
        #expect(message.contains("more than 12"), "\(message)")
    }

    @Test func twelveMaskLinesStillParse() throws {
        let text = Self.head + String(repeating: "B: 01 ff ff ff ff ff ff ff ff\n", count: 12) + Self.tail
        let recording = try EvemuRecording.parse(description: text)
        #expect(recording.capabilities[1]?.count == 768)
        #expect(recording.capabilities[1]?.last == 0x2ff)
    }

    @Test func codesBeyondTheirRangeAreRefused() {
        #expect(failure(Self.head + "A: 300 0 1 0 0\n" + Self.tail).contains("hostile.evemu:4: A: axis code out of range"))
        #expect(failure(Self.head + "L: ffff 1\n" + Self.tail).contains("hostile.evemu:4: L: code out of range"))
        #expect(failure(Self.head + "E: 99999999999999999999.1 0001 0002 1\n").contains("hostile.evemu:4: E: needs"))
        #expect(failure(Self.head + "E: 1.000001 0001 0002 4294967296\n").contains("hostile.evemu:4: E: needs"))
    }

    @Test func junkLinesAreNamedAndEscaped() {
        let message = failure(Self.head + "\u{1B}]0;owned\u{07}\u{1B}[2J junk\n" + Self.tail)
        #expect(message.contains("hostile.evemu:4: not an evemu line"), "\(message)")
        #expect(!message.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x07 }, "\(message)")
        #expect(message.contains("\\x1b]0;owned\\x07"), "\(message)")
        let long = failure(Self.head + "X: " + String(repeating: "z", count: 100_000) + "\n")
        #expect(long.count < 400, "a 100 kB junk line is shortened in the message")
    }

    @Test func oversizeAndNonRegularFilesAreRefusedBeforeReading() {
        #expect(throws: RecorderError.self) { try EvemuRecording.load(path: "/dev/zero", eventsPath: nil) }
        #expect(throws: RecorderError.self) { try EvemuRecording.load(path: "/proc/self", eventsPath: nil) }
    }

    /// Mutations of every real fixture (truncations, flips, a line repeated 1100 times, huge
    /// numbers, control bytes): each one parses to values in range or fails with a message.
    @Test func mutatedFixturesParseOrFailCleanly() throws {
        let folder = TestPaths.evemuFixtures
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".events") || $0.hasSuffix(".desc") }.sorted()
        let corpus = try names.map { Array(try Data(contentsOf: folder.appendingPathComponent($0))) }
        #expect(corpus.count >= 6)
        var mutator = InputMutator()
        var parsed = 0
        var refused = 0
        let tried = mutator.run(corpus: corpus) { bytes in
            do throws(RecorderError) {
                let recording = try EvemuRecording.parse(description: String(decoding: bytes, as: UTF8.self), descriptionName: "mutant")
                parsed += 1
                #expect(recording.capabilities.keys.allSatisfy { $0 <= 0x1f })
                #expect(recording.capabilities.values.allSatisfy { $0.allSatisfy { $0 <= 0x2ff } })
                #expect(recording.properties.allSatisfy { $0 <= 0x2ff })
                #expect(recording.events.allSatisfy { $0.type <= 0x1f && $0.code <= 0x2ff && $0.timeNs >= 0 })
            } catch {
                refused += 1
                #expect(error.description.hasPrefix("replay: mutant"), "\(error.description)")
                #expect(!error.description.unicodeScalars.contains(where: TerminalText.isControl), "\(error.description)")
            }
        }
        #expect(tried == parsed + refused)
        #expect(refused > 0 && parsed > 0, "the mutations reach both outcomes (\(parsed) parsed, \(refused) refused)")
    }
}

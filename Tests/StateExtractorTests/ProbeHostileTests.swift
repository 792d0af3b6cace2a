#if canImport(Glibc)
import Glibc
#endif
import Foundation
import RecorderCore
import StateExtractor
import Testing
import TestSupport

/// Probe files built to break the parser: numbers at the ends of Int, huge declared images, mutations.
@Suite(.serialized)
struct ProbeHostileTests {
    private func failure(_ text: String, path: String = "/cfg/hostile.toml") -> String {
        do {
            let configuration = try ProbeConfiguration.parse(text: text, path: path, screenWidth: 640, screenHeight: 480)
            return "unexpectedly valid: \(configuration.probes.map(\.name))"
        } catch {
            return error.description
        }
    }

    @Test(arguments: [
        "[9223372036854775000, 0, 1000, 10]", "[0, 9223372036854775000, 10, 1000]",
        "[10, 10, 9223372036854775807, 10]", "[1, 1, 10, 9223372036854775807]", "[-9223372036854775808, 0, 10, 10]",
    ])
    func regionsNearIntMaxAreOutsideTheScreen(region: String) {
        let message = failure("[[probe]]\nname = \"hp\"\nkind = \"mean\"\nregion = \(region)\n")
        #expect(message.contains("probe 'hp': field 'region'"), "\(message)")
        #expect(message.contains("outside the 640x480 screen") || message.contains("at least 1x1"), "\(message)")
    }

    /// Headers that abort the TOML parser (an assertion in toml++) are refused before it sees them.
    @Test(arguments: ["[\u{1B}", "[\u{0}]", "[@x]", "[[{", "[[[", "  [ \u{9B}", "["])
    func tableHeadersTheParserWouldAbortOnAreRefused(header: String) {
        let message = failure("[[probe]]\nname = \"a\"\nkind = \"window\"\n\(header)\n")
        #expect(message.contains("/cfg/hostile.toml: line 4: a table header must start with a key"), "\(message)")
    }

    /// A `}` where an array expects a value aborts toml++ too; strings and comments holding one do not count.
    @Test(arguments: [
        ("region = [}", 4), ("region = [1, }", 4), ("region = [\n  # c\n  }", 6),
        ("color = \"[}\"\nregion = [ 0,\n}", 6), ("color = \"\"\"\n[}\"\"\"\"\nregion = [}", 6),
    ])
    func aBraceWhereAnArrayExpectsAValueIsRefused(tail: String, line: Int) {
        let message = failure("[[probe]]\nname = \"a\"\nkind = \"mean\"\n\(tail)\n")
        #expect(message.contains("/cfg/hostile.toml: line \(line): '}' where a value or ']' was expected"), "\(message)")
    }

    @Test(arguments: ["color = \"[}\"", "color = '[, }'", "# [}", "color = \"\"\"\n[}\n\"\"\"", "t = { a = [1, 2] }"])
    func bracesAndBracketsInsideStringsCommentsAndInlineTablesPass(tail: String) {
        #expect(TOMLPrecheck.firstAbortingShape(Array("\(tail)\n".utf8)) == nil)
    }

    /// A 8000x8000 PNG of ~190 kB: the header is refused before 192 MB of pixels are allocated.
    @Test func hugeDeclaredTemplateIsRefusedFromItsHeader() throws {
        let folder = try TestPaths.temporaryDirectory("probe-png")
        defer { try? FileManager.default.removeItem(at: folder) }
        let png = folder.appendingPathComponent("bomb.png").path
        let made = try runPython("""
            import struct, sys, zlib
            def chunk(kind, data):
                return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)
            w = h = 8000
            z = zlib.compressobj(9)
            row = b"\\0" * (1 + 3 * w)
            body = b"".join(z.compress(row) for _ in range(h)) + z.flush()
            with open(sys.argv[1], "wb") as f:
                f.write(b"\\x89PNG\\r\\n\\x1a\\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) + chunk(b"IDAT", body) + chunk(b"IEND", b""))
            print(len(body))
            """, arguments: [png])
        #expect(made.status == 0, "\(made.stderr)")
        let size = try #require((try FileManager.default.attributesOfItem(atPath: png)[.size] as? Int))
        #expect(size < 400_000)
        var before = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &before)
        let message = failure("[[probe]]\nname = \"icon\"\nkind = \"template\"\nregion = [0, 0, 64, 64]\ntemplate = \"\(png)\"\n")
        var after = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &after)
        #expect(message.contains("declares 8000x8000 pixels, more than the 64x64 allowed (not decoded)"), "\(message)")
        // ru_maxrss is in kB: decoding would have touched 192 MB.
        #expect(after.ru_maxrss - before.ru_maxrss < 100_000, "peak RSS grew by \(after.ru_maxrss - before.ru_maxrss) kB")
    }

    /// Mutations of the committed seed probe files (huge numbers, truncations, repeated tables,
    /// control bytes): each parses to probes inside the screen or fails naming the file.
    @Test func mutatedProbeFilesParseOrFailCleanly() throws {
        let corpus = try TestPaths.fuzzCorpus("probes")
        #expect(corpus.count >= 2)
        var mutator = InputMutator()
        var outcomes = (parsed: 0, refused: 0)
        mutator.run(corpus: corpus) { bytes in
            do throws(RecorderError) {
                let configuration = try ProbeConfiguration.parse(
                    text: String(decoding: bytes, as: UTF8.self), path: "/cfg/mutant.toml", screenWidth: 640, screenHeight: 480)
                outcomes.parsed += 1
                for probe in configuration.probes {
                    guard let region = probe.region else { continue }
                    #expect(region.x >= 0 && region.y >= 0 && region.width >= 1 && region.height >= 1)
                    #expect(region.x + region.width <= 640 && region.y + region.height <= 480)
                }
            } catch {
                outcomes.refused += 1
                #expect(error.description.contains("/cfg/mutant.toml"), "\(error.description)")
            }
        }
        #expect(outcomes.parsed > 0 && outcomes.refused > 0, "\(outcomes)")
    }
}

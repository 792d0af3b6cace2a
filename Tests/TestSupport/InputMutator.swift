import Foundation

/// Seeded mutations of real inputs for the parser fuzz tests: the same seed gives the same inputs.
///
/// The budget comes from the environment so `scripts/fuzz_parsers.sh` can run the same tests longer:
/// FUZZ_ITERATIONS (inputs per corpus file), FUZZ_SECONDS (wall-clock cap per test), FUZZ_SEED.
public struct InputMutator {
    private var state: UInt64

    public init(seed: UInt64 = InputMutator.seed) { state = seed }

    public static var seed: UInt64 { environmentNumber("FUZZ_SEED").map(UInt64.init) ?? 0x5EED_0019 }
    public static var iterations: Int { environmentNumber("FUZZ_ITERATIONS") ?? 150 }
    public static var seconds: Double { Double(environmentNumber("FUZZ_SECONDS") ?? 20) }

    private static func environmentNumber(_ name: String) -> Int? {
        ProcessInfo.processInfo.environment[name].flatMap { Int($0) }.flatMap { $0 > 0 ? $0 : nil }
    }

    /// SplitMix64.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A number in 0..<bound (bound > 0).
    public mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(max(1, bound))) }

    /// Values that broke parsers before: beyond every integer width, non-finite, negative, huge repeats.
    public static let hostileTokens: [String] = [
        "99999999999999999999999", "9223372036854775807", "-9223372036854775808", "4294967296", "65536", "-1",
        "1e300", "-1e300", "1e-300", "nan", "inf", "0", "0x7fffffff", "\u{1B}[2J", "\u{0}", "\u{9B}31m", "\"", "[", "{",
    ]

    /// One to three mutations of `input`: truncation, bit flips, cut ranges, a line repeated up to 1500
    /// times, a number replaced by a hostile token, control bytes inserted, two lines swapped.
    public mutating func mutate(_ input: [UInt8]) -> [UInt8] {
        var bytes = input
        for _ in 0...below(3) {
            guard !bytes.isEmpty else { return Array(Self.hostileTokens[below(Self.hostileTokens.count)].utf8) }
            switch below(7) {
            case 0:
                bytes.removeSubrange(below(bytes.count)...)
            case 1:
                for _ in 0...below(8) { bytes[below(bytes.count)] ^= UInt8(1 << below(8)) }
            case 2:
                let start = below(bytes.count)
                bytes.removeSubrange(start..<min(bytes.count, start + 1 + below(64)))
            case 3:
                var lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
                let index = below(lines.count)
                let copies = [2, 100, 1100, 1500][below(4)]
                lines.insert(contentsOf: Array(repeating: lines[index], count: copies), at: index)
                bytes = Array(lines.joined(separator: [UInt8(ascii: "\n")]))
            case 4:
                // Replace a run of digits by a hostile token.
                let digits = bytes.indices.filter { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[$0]) }
                guard let start = digits.isEmpty ? nil : digits[below(digits.count)] else { continue }
                var end = start
                while end < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[end]) { end += 1 }
                bytes.replaceSubrange(start..<end, with: Array(Self.hostileTokens[below(Self.hostileTokens.count)].utf8))
            case 5:
                let controls: [[UInt8]] = [[0x1B, 0x5B, 0x32, 0x4A], [0], [0xFF, 0xFE], [0xC2, 0x9B], [0x0D], [0x7F]]
                bytes.insert(contentsOf: controls[below(controls.count)], at: below(bytes.count + 1))
            default:
                var lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
                lines.swapAt(below(lines.count), below(lines.count))
                bytes = Array(lines.joined(separator: [UInt8(ascii: "\n")]))
            }
        }
        return bytes
    }

    /// Runs `body` on up to `iterations` mutations of each input, stopping at the time budget;
    /// returns how many inputs were tried.
    @discardableResult
    public mutating func run(corpus: [[UInt8]], _ body: ([UInt8]) throws -> Void) rethrows -> Int {
        let deadline = Date().addingTimeInterval(Self.seconds)
        var tried = 0
        for _ in 0..<Self.iterations {
            for input in corpus {
                if Date() > deadline { return tried }
                try body(mutate(input))
                tried += 1
            }
        }
        return tried
    }
}

extension TestPaths {
    /// Committed seeds of the parser fuzz tests (`Tests/fuzz-corpus/KIND/`), each file's bytes.
    public static func fuzzCorpus(_ kind: String) throws -> [[UInt8]] {
        let folder = packageRoot.appendingPathComponent("Tests/fuzz-corpus/\(kind)")
        return try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted().map {
            Array(try Data(contentsOf: folder.appendingPathComponent($0)))
        }
    }
}

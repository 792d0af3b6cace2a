/// One `[[probe]]` table of a probe file, built from the few values a test varies.
///
/// Tests that need a well-formed probe file describe it with these, so the TOML layout is written in one
/// place; tests of malformed files keep writing their text by hand, since the mistake is the point.
struct ProbeTable {
    /// The table's `key = value` lines after `[[probe]]`, in file order.
    let lines: [String]

    /// A `bar` probe: how far `color` fills `region`.
    static func bar(_ name: String, region: [Int], color: String, tolerance: Int? = nil, direction: String? = nil) -> ProbeTable {
        var table = common(name, kind: "bar", region: region) + ["color = \(quoted(color))"]
        if let tolerance { table.append("tolerance = \(tolerance)") }
        if let direction { table.append("direction = \(quoted(direction))") }
        return ProbeTable(lines: table)
    }

    /// A `mean` probe: the average colour of `region`.
    static func mean(_ name: String, region: [Int]) -> ProbeTable {
        ProbeTable(lines: common(name, kind: "mean", region: region))
    }

    /// A `changed` probe: whether `region` differs from the previous sample.
    static func changed(_ name: String, region: [Int], threshold: Int? = nil) -> ProbeTable {
        var table = common(name, kind: "changed", region: region)
        if let threshold { table.append("threshold = \(threshold)") }
        return ProbeTable(lines: table)
    }

    /// A `template` probe: where the PNG `template` (relative to the probe file) appears inside `region`.
    static func template(_ name: String, region: [Int], template: String) -> ProbeTable {
        ProbeTable(lines: common(name, kind: "template", region: region) + ["template = \(quoted(template))"])
    }

    /// A `window` probe: the focused window, and whether it matches `match`.
    static func window(_ name: String, match: String? = nil) -> ProbeTable {
        var table = common(name, kind: "window", region: nil)
        if let match { table.append("match = \(quoted(match))") }
        return ProbeTable(lines: table)
    }

    /// The text of a probe file holding `tables` in order.
    static func toml(_ tables: [ProbeTable]) -> String {
        tables.map { (["[[probe]]"] + $0.lines).joined(separator: "\n") + "\n" }.joined(separator: "\n")
    }

    private static func common(_ name: String, kind: String, region: [Int]?) -> [String] {
        var table = ["name = \(quoted(name))", "kind = \(quoted(kind))"]
        if let region { table.append("region = [\(region.map(String.init).joined(separator: ", "))]") }
        return table
    }

    /// A TOML basic string; escaping keeps a test's odd name from changing the file's structure.
    private static func quoted(_ value: String) -> String {
        "\"" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}

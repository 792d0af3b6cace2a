import Foundation
import RecorderCore
import StateExtractor
import Testing
import TestSupport

/// Bad probe files: each mistake gives one error naming the file, the probe and the field.
@Suite(.serialized)
struct ProbeValidationTests {
    private let path = "/cfg/game-probes.toml"

    private func failure(_ text: String) -> String {
        do {
            let configuration = try ProbeConfiguration.parse(text: text, path: path, screenWidth: 640, screenHeight: 480)
            return "unexpectedly valid: \(configuration.probes.map(\.name))"
        } catch {
            return error.description
        }
    }

    @Test func acceptsEveryKindAndDerivesFieldNames() throws {
        let folder = try TestPaths.temporaryDirectory("probes")
        defer { try? FileManager.default.removeItem(at: folder) }
        let png = folder.appendingPathComponent("icon.png").path
        let made = try runPython("from PIL import Image; Image.new('RGB', (4, 3), (9, 8, 7)).save(__import__('sys').argv[1])", arguments: [png])
        #expect(made.status == 0, "\(made.stderr)")
        let file = try writeProbeFile([
            .bar("hp", region: [100, 50, 200, 10], color: "#D01010", tolerance: 40),
            .mean("tint", region: [0, 0, 640, 480]),
            .changed("menu", region: [10, 10, 64, 64], threshold: 6),
            .template("icon", region: [300, 300, 40, 40], template: "icon.png"),
            .window("game", match: "Quake"),
        ], in: folder)
        let configuration = try ProbeConfiguration.load(path: file, screenWidth: 640, screenHeight: 480)
        #expect(configuration.fields.map(\.name) == [
            "cursor_x", "cursor_y", "hp", "tint_r", "tint_g", "tint_b", "menu_hash", "menu_changed",
            "icon_score", "icon_x", "icon_y", "game_id", "game_pid", "game_focused",
        ])
        #expect(configuration.fields.map(\.kind) == [
            .int32, .int32, .float64, .float64, .float64, .float64, .int64, .uint8, .float64, .int32, .int32, .int64, .int32, .uint8,
        ])
        #expect(configuration.probes[0].kind == .bar(region: PixelRect(x: 100, y: 50, width: 200, height: 10),
                                                     color: RGBColor(red: 0xd0, green: 0x10, blue: 0x10), tolerance: 40, direction: .right, maxGap: 2))
        guard case .template(_, let image, let resolved) = configuration.probes[3].kind else {
            Issue.record("icon is not a template probe")
            return
        }
        #expect(resolved == png)
        #expect(image == RGBImage(width: 4, height: 3, pixels: Array([UInt8]([9, 8, 7]).repeated(12))))
        let attributes = configuration.attributes
        #expect(attributes["probe_config"] == (try String(contentsOfFile: file, encoding: .utf8)))
        let json = try JSONSerialization.jsonObject(with: Data(attributes["probes_json"]!.utf8)) as! [[String: Any]]
        #expect(json.map { $0["name"] as? String } == ["hp", "tint", "menu", "icon", "game"])
        #expect(json[0]["color"] as? String == "#d01010")
        #expect(json[0]["region"] as? [Int] == [100, 50, 200, 10])
        #expect(json[2]["threshold"] as? Int == 6)
        #expect(json[4]["match"] as? String == "Quake")
    }

    @Test func emptyFileHasOnlyTheCursor() throws {
        let configuration = try ProbeConfiguration.parse(text: "", path: path, screenWidth: 640, screenHeight: 480)
        #expect(configuration.fields == ProbeConfiguration.cursorFields)
        #expect(configuration.attributes["probes_json"] == "[]")
    }

    @Test func unknownKind() {
        let message = failure("[[probe]]\nname = \"hp\"\nkind = \"gauge\"\nregion = [0, 0, 10, 10]\n")
        #expect(message.hasPrefix("\(path): probe 'hp': field 'kind': unknown kind 'gauge'"), "\(message)")
    }

    @Test func regionOutsideTheScreen() {
        let message = failure("[[probe]]\nname = \"hp\"\nkind = \"bar\"\nregion = [600, 50, 200, 10]\ncolor = \"#d01010\"\n")
        #expect(message == "\(path): probe 'hp': field 'region': region [600, 50, 200, 10] lies outside the 640x480 screen")
    }

    @Test func negativeOrEmptyRegion() {
        let negative = failure("[[probe]]\nname = \"m\"\nkind = \"mean\"\nregion = [-1, 0, 10, 10]\n")
        #expect(negative.contains("\(path): probe 'm': field 'region': region [-1, 0, 10, 10] lies outside"), "\(negative)")
        let empty = failure("[[probe]]\nname = \"m\"\nkind = \"mean\"\nregion = [0, 0, 0, 10]\n")
        #expect(empty.contains("\(path): probe 'm': field 'region': region [0, 0, 0, 10] must be at least 1x1"), "\(empty)")
    }

    @Test func badColour() {
        for colour in ["#d0101", "d01010", "#d0101g", "red"] {
            let message = failure("[[probe]]\nname = \"hp\"\nkind = \"bar\"\nregion = [0, 0, 10, 10]\ncolor = \"\(colour)\"\n")
            #expect(message == "\(path): probe 'hp': field 'color': bad colour \"\(colour)\" (expected \"#rrggbb\")")
        }
    }

    @Test func duplicateName() {
        let message = failure(ProbeTable.toml([
            .mean("hp", region: [0, 0, 10, 10]),
            .bar("hp", region: [0, 0, 10, 10], color: "#ffffff"),
        ]))
        #expect(message.hasPrefix("\(path): probe 'hp': field 'name': duplicate probe name"), "\(message)")
    }

    @Test func derivedFieldCollision() {
        let message = failure(ProbeTable.toml([
            .mean("tint", region: [0, 0, 10, 10]),
            .bar("tint_r", region: [0, 0, 10, 10], color: "#ffffff"),
        ]))
        #expect(message.hasPrefix("\(path): probe 'tint_r': field 'name': its sample field 'tint_r' collides with a field of probe 'tint'"), "\(message)")
        let cursor = failure("[[probe]]\nname = \"cursor_x\"\nkind = \"bar\"\nregion = [0, 0, 10, 10]\ncolor = \"#ffffff\"\n")
        #expect(cursor.contains("probe 'cursor_x': field 'name': its sample field 'cursor_x' collides with a field of the cursor"), "\(cursor)")
    }

    @Test func missingField() {
        let noColour = failure("[[probe]]\nname = \"hp\"\nkind = \"bar\"\nregion = [0, 0, 10, 10]\n")
        #expect(noColour == "\(path): probe 'hp': field 'color': missing (a string)")
        let noRegion = failure("[[probe]]\nname = \"tint\"\nkind = \"mean\"\n")
        #expect(noRegion == "\(path): probe 'tint': field 'region': missing (expected [x, y, w, h])")
        let noName = failure("[[probe]]\nkind = \"mean\"\nregion = [0, 0, 10, 10]\n")
        #expect(noName == "\(path): probe #1: field 'name': missing (every probe needs a name)")
    }

    @Test func wrongType() {
        let tolerance = failure("[[probe]]\nname = \"hp\"\nkind = \"bar\"\nregion = [0, 0, 10, 10]\ncolor = \"#ffffff\"\ntolerance = \"40\"\n")
        #expect(tolerance == "\(path): probe 'hp': field 'tolerance': must be an integer, not a string")
        let region = failure("[[probe]]\nname = \"hp\"\nkind = \"mean\"\nregion = [0, 0, 10.5, 10]\n")
        #expect(region.hasPrefix("\(path): probe 'hp': field 'region': must be an array of 4 integers"), "\(region)")
        let name = failure("[[probe]]\nname = 7\nkind = \"mean\"\nregion = [0, 0, 10, 10]\n")
        #expect(name == "\(path): probe #1: field 'name': must be a string, not a integer")
    }

    @Test func unknownKey() {
        let message = failure("[[probe]]\nname = \"hp\"\nkind = \"bar\"\nregion = [0, 0, 10, 10]\ncolor = \"#ffffff\"\ncolour = \"#ffffff\"\n")
        #expect(message.hasPrefix("\(path): probe 'hp': field 'colour': unknown key for a bar probe"), "\(message)")
        let topLevel = failure("rate = 5\n")
        #expect(topLevel.hasPrefix("\(path): unknown key 'rate'"), "\(topLevel)")
    }

    @Test func outOfRangeValues() {
        let tolerance = failure("[[probe]]\nname = \"hp\"\nkind = \"bar\"\nregion = [0, 0, 10, 10]\ncolor = \"#ffffff\"\ntolerance = 300\n")
        #expect(tolerance == "\(path): probe 'hp': field 'tolerance': 300 is outside 0...255")
        let direction = failure("[[probe]]\nname = \"hp\"\nkind = \"bar\"\nregion = [0, 0, 10, 10]\ncolor = \"#ffffff\"\ndirection = \"sideways\"\n")
        #expect(direction.hasPrefix("\(path): probe 'hp': field 'direction': 'sideways' is not one of"), "\(direction)")
        let small = failure("[[probe]]\nname = \"menu\"\nkind = \"changed\"\nregion = [0, 0, 4, 4]\n")
        #expect(small.hasPrefix("\(path): probe 'menu': field 'region': [0, 0, 4, 4] is smaller than"), "\(small)")
    }

    @Test func unreadableTemplate() {
        let message = failure("[[probe]]\nname = \"icon\"\nkind = \"template\"\nregion = [0, 0, 40, 40]\ntemplate = \"nope.png\"\n")
        #expect(message.hasPrefix("\(path): probe 'icon': field 'template': cannot read PNG '/cfg/nope.png'"), "\(message)")
    }

    @Test func templateSearchOverBudget() throws {
        let folder = try TestPaths.temporaryDirectory("probes")
        defer { try? FileManager.default.removeItem(at: folder) }
        let png = folder.appendingPathComponent("big.png").path
        _ = try runPython("from PIL import Image; Image.new('RGB', (64, 64)).save(__import__('sys').argv[1])", arguments: [png])
        let file = try writeProbeFile("[[probe]]\nname = \"icon\"\nkind = \"template\"\nregion = [0, 0, 640, 480]\ntemplate = \"big.png\"\n", in: folder)
        #expect(throws: RecorderError.self) { try ProbeConfiguration.load(path: file, screenWidth: 640, screenHeight: 480) }
        do {
            _ = try ProbeConfiguration.load(path: file, screenWidth: 640, screenHeight: 480)
        } catch {
            #expect(error.description.hasPrefix("\(file): probe 'icon': field 'region': searching [0, 0, 640, 480]"), "\(error)")
        }
    }

    @Test func tomlSyntaxErrorNamesFileAndLine() {
        let message = failure("[[probe]]\nname = \"hp\nkind = \"bar\"\n")
        #expect(message.hasPrefix("\(path): line 2"), "\(message)")
    }

    @Test func missingFile() {
        do {
            _ = try ProbeConfiguration.load(path: "/nonexistent/probes.toml", screenWidth: 640, screenHeight: 480)
            Issue.record("loading a missing file succeeded")
        } catch {
            #expect(error.description.hasPrefix("/nonexistent/probes.toml: cannot read the probe file"), "\(error)")
        }
    }
}

extension Array {
    /// The array repeated `count` times.
    func repeated(_ count: Int) -> [Element] { (0..<count).flatMap { _ in self } }
}

import RecorderCore

/// Which way a bar grows as it fills: "right" means it is anchored at the left edge.
public enum BarDirection: String, Sendable, Equatable, CaseIterable {
    case right, left, up, down
}

/// One validated probe: a name, what it measures, and the fields of `/state/samples` it fills.
public struct Probe: Sendable, Equatable {
    /// What the probe measures, with its parameters.
    public enum Kind: Sendable, Equatable {
        /// Fraction of the region filled with `color` (within `tolerance`) from the anchored edge.
        case bar(region: PixelRect, color: RGBColor, tolerance: Int, direction: BarDirection, maxGap: Int)
        /// Mean R, G, B of the region.
        case mean(region: PixelRect)
        /// 49-bit difference hash of the region and whether it moved more than `threshold` bits since the last sample.
        case changed(region: PixelRect, threshold: Int)
        /// Best match of a PNG template inside the region (sum of absolute differences).
        case template(region: PixelRect, image: RGBImage, path: String)
        /// The focused window: its id, its pid and whether it matches `match` (title or WM_CLASS substring).
        case window(match: String?)
    }

    public var name: String
    public var kind: Kind

    public init(name: String, kind: Kind) {
        self.name = name
        self.kind = kind
    }

    /// The kind's word in probe files.
    public var kindName: String {
        switch kind {
        case .bar: return "bar"
        case .mean: return "mean"
        case .changed: return "changed"
        case .template: return "template"
        case .window: return "window"
        }
    }

    /// The screen rectangle the probe reads, nil for probes that read no pixels.
    public var region: PixelRect? {
        switch kind {
        case .bar(let region, _, _, _, _), .mean(let region), .changed(let region, _), .template(let region, _, _):
            return region
        case .window:
            return nil
        }
    }

    /// The probe's fields of `/state/samples`, named after the probe (see docs/PROBES.md).
    public var fields: [StateField] {
        switch kind {
        case .bar:
            return [StateField(name: name, kind: .float64)]
        case .mean:
            return ["r", "g", "b"].map { StateField(name: "\(name)_\($0)", kind: .float64) }
        case .changed:
            return [StateField(name: "\(name)_hash", kind: .int64), StateField(name: "\(name)_changed", kind: .uint8)]
        case .template:
            return [
                StateField(name: "\(name)_score", kind: .float64),
                StateField(name: "\(name)_x", kind: .int32),
                StateField(name: "\(name)_y", kind: .int32),
            ]
        case .window:
            return [
                StateField(name: "\(name)_id", kind: .int64),
                StateField(name: "\(name)_pid", kind: .int32),
                StateField(name: "\(name)_focused", kind: .uint8),
            ]
        }
    }
}

import CX11Shim
import RecorderCore
import X11Support

/// Everything one state sample needs, owned by the state thread: its own Display, its own SHM segment, the
/// probes and what they remember between samples (the last hash of each `changed` probe).
final class StateSampler {
    /// How the probe regions are read each sample.
    enum GrabPlan: Equatable {
        /// No probe reads pixels.
        case nothing
        /// One grab of the union bounding box, when it is no larger than the regions together.
        case union(PixelRect)
        /// One grab per probe region.
        case perProbe
    }

    let connection: XConnection
    let probes: ProbeConfiguration
    let plan: GrabPlan
    private let grabber: RegionGrabber
    private let tracker: WindowTracker
    private var buffer = RGBImage(width: 0, height: 0)
    private var previousHashes: [Int64?]

    /// Opens the display, loads the probes against its screen size and prepares the grabber.
    /// - Throws: `RecorderError` with a message for `startup.fail` (nothing stays open).
    init(configuration: StateConfiguration, sharedMemory: Bool = true) throws(RecorderError) {
        let connection = try XConnection(name: configuration.display, opener: "state sampler")
        let width = connection.screenWidth
        let height = connection.screenHeight
        do {
            let probes = try configuration.probesPath.map { path throws(RecorderError) in
                try ProbeConfiguration.load(path: path, screenWidth: width, screenHeight: height)
            } ?? .empty
            let regions = probes.probes.compactMap(\.region)
            let plan = Self.plan(for: regions)
            let capacity: (Int, Int)
            switch plan {
            case .nothing: capacity = (0, 0)
            case .union(let box): capacity = (box.width, box.height)
            case .perProbe: capacity = (regions.map(\.width).max()!, regions.map(\.height).max()!)
            }
            grabber = try RegionGrabber(connection: connection, capacityWidth: capacity.0, capacityHeight: capacity.1,
                                        sharedMemory: sharedMemory)
            self.probes = probes
            self.plan = plan
        } catch let failure {
            connection.close()
            throw failure
        }
        self.connection = connection
        tracker = WindowTracker(connection: connection)
        previousHashes = Array(repeating: nil, count: probes.probes.count)
    }

    static func plan(for regions: [PixelRect]) -> GrabPlan {
        guard let first = regions.first else { return .nothing }
        let box = regions.dropFirst().reduce(first) { $0.union($1) }
        return box.area <= regions.reduce(0) { $0 + $1.area } ? .union(box) : .perProbe
    }

    var schema: StateSchema { StateSchema(fields: probes.fields, attributes: probes.attributes) }
    var usesSharedMemory: Bool { grabber.usesSharedMemory }
    var segmentBytes: Int { grabber.segmentBytes }
    var isDisplayLost: Bool { connection.isLost }
    var errorCount: UInt64 { connection.errorCount }

    /// Takes one sample stamped `tNs`: cursor, focused window, then every probe in order.
    func sample(at tNs: Int64) -> (StateSample, WindowTracker.Focus) {
        var values: [Double] = []
        values.reserveCapacity(probes.fields.count)
        var rootX: Int32 = -1, rootY: Int32 = -1, windowX: Int32 = 0, windowY: Int32 = 0
        var rootReturn: Window = 0, child: Window = 0
        var mask: UInt32 = 0
        if XQueryPointer(connection.display, connection.root, &rootReturn, &child, &rootX, &rootY, &windowX, &windowY, &mask) == 0 {
            rootX = -1
            rootY = -1
        }
        values.append(Double(rootX))
        values.append(Double(rootY))
        let focus = tracker.focusedWindow(pointerChild: child)

        var unionGrabbed = false
        if case .union(let box) = plan { unionGrabbed = grabber.grab(box, into: &buffer) }
        for (index, probe) in probes.probes.enumerated() {
            if case .window(let match) = probe.kind {
                let focused = focus.id != 0 && (match.map { focus.title.contains($0) || focus.wmClass.contains($0) } ?? true)
                values += [Double(focus.id), Double(focus.pid), focused ? 1 : 0]
                continue
            }
            guard let region = probe.region else { continue }
            let rect: PixelRect?
            switch plan {
            case .union(let box):
                rect = unionGrabbed ? PixelRect(x: region.x - box.x, y: region.y - box.y, width: region.width, height: region.height) : nil
            case .perProbe:
                rect = grabber.grab(region, into: &buffer) ? PixelRect(x: 0, y: 0, width: region.width, height: region.height) : nil
            case .nothing:
                rect = nil
            }
            guard let rect else {
                values += Self.failedValues(probe)
                continue
            }
            values += measure(probe, index: index, rect: rect)
        }
        return (StateSample(tNs: tNs, values: values), focus)
    }

    private func measure(_ probe: Probe, index: Int, rect: PixelRect) -> [Double] {
        switch probe.kind {
        case .bar(_, let color, let tolerance, let direction, let maxGap):
            return [BarGauge.fraction(of: buffer, in: rect, color: color, tolerance: tolerance, direction: direction, maxGap: maxGap)]
        case .mean:
            let mean = MeanColor.of(buffer, in: rect)
            return [mean.red, mean.green, mean.blue]
        case .changed(_, let threshold):
            let hash = PerceptualHash.of(buffer, in: rect)
            let changed = previousHashes[index].map { PerceptualHash.distance($0, hash) > threshold } ?? false
            previousHashes[index] = hash
            return [Double(hash), changed ? 1 : 0]
        case .template(_, let image, _):
            let match = TemplateMatcher.bestMatch(of: image, in: buffer, rect: rect)
            return [match.score, Double(probe.region!.x + match.x), Double(probe.region!.y + match.y)]
        case .window:
            return []
        }
    }

    /// A probe whose grab failed: NaN in float fields, -1 in integer fields, 0 in flags (documented in PROBES.md).
    private static func failedValues(_ probe: Probe) -> [Double] {
        probe.fields.map { field in
            switch field.kind {
            case .float64: return .nan
            case .int64, .int32: return -1
            case .uint8: return 0
            }
        }
    }

    /// Releases the segment and the connection (skipping server round trips when the display is gone).
    func close() {
        grabber.close()
        connection.close()
    }
}

/// One field of `/state/samples`, fixed for the whole session by the probe configuration.
public struct StateField: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Codable {
        case float64, int64, int32, uint8
    }
    public var name: String
    public var kind: Kind

    public init(name: String, kind: Kind) {
        self.name = name
        self.kind = kind
    }
}

/// One 5 FPS sample: `values[i]` belongs to `StateField` i of the session's schema.
public struct StateSample: Sendable, Equatable {
    public var tNs: Int64
    /// Numbers in schema order; integer kinds are stored exactly (values within 2^53).
    public var values: [Double]

    public init(tNs: Int64, values: [Double]) {
        self.tNs = tNs
        self.values = values
    }
}

/// The focused window as the state sampler last saw it; stored in `/state/window` on change.
public struct WindowSnapshot: Sendable, Equatable {
    public var tNs: Int64
    public var windowID: UInt64
    public var title: String
    public var wmClass: String
    public var pid: Int32
    public var x: Int32
    public var y: Int32
    public var width: Int32
    public var height: Int32

    public init(tNs: Int64, windowID: UInt64, title: String, wmClass: String, pid: Int32, x: Int32, y: Int32, width: Int32, height: Int32) {
        self.tNs = tNs
        self.windowID = windowID
        self.title = title
        self.wmClass = wmClass
        self.pid = pid
        self.x = x
        self.y = y
        self.width = width
        self.height = height
    }

    /// True when `text` is part of the title or the WM_CLASS (the rule of `--window` and `--input-focus`).
    public func matches(_ text: String) -> Bool {
        title.contains(text) || wmClass.contains(text)
    }
}

/// Something a session should remember beside the data: a lost window, an X error, a drop burst.
/// Stored in `/log/notes` and logged.
public struct SessionNote: Sendable, Equatable {
    public var tNs: Int64
    /// The thread that saw it: capture, input, state, writer, session.
    public var source: String
    /// A stable machine-readable word: target-lost, target-found, x-error, input-paused, ...
    public var kind: String
    public var message: String

    public init(tNs: Int64 = MonotonicClock.now(), source: String, kind: String, message: String) {
        self.tNs = tNs
        self.source = source
        self.kind = kind
        self.message = message
    }
}

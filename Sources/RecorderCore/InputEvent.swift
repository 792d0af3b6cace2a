/// One evdev event as stored in `/input/events`: kernel time on CLOCK_MONOTONIC, device row id, type, code, value.
public struct InputEvent: BitwiseCopyable, Equatable, Sendable {
    public var tNs: Int64
    public var device: UInt16
    public var type: UInt16
    public var code: UInt16
    public var value: Int32
    /// `InputEvent.Flags` bits.
    public var flags: UInt16

    /// Bits of `flags`.
    public enum Flags {
        /// Synthesized by libevdev's resync after SYN_DROPPED, not read from the kernel.
        public static let synthetic: UInt16 = 1 << 0
        /// The key code was replaced (`--redact-keys`).
        public static let redacted: UInt16 = 1 << 1
    }

    public init(tNs: Int64, device: UInt16, type: UInt16, code: UInt16, value: Int32, flags: UInt16 = 0) {
        self.tNs = tNs
        self.device = device
        self.type = type
        self.code = code
        self.value = value
        self.flags = flags
    }
}

/// What `/input/devices` stores about one device, sent once when the device is first seen.
public struct InputDeviceInfo: Sendable, Equatable, Codable {
    /// Row id referenced by `InputEvent.device`.
    public var id: UInt16
    public var name: String
    /// Where it came from: `/dev/input/eventN` or `replay:PATH`.
    public var path: String
    public var bus: UInt16
    public var vendor: UInt16
    public var product: UInt16
    public var version: UInt16
    public var phys: String
    public var uniq: String
    /// keyboard, mouse, touchpad, gamepad, joystick, tablet, touchscreen, other.
    public var kind: String
    /// Supported codes per event type (EV_KEY: [KEY_A, ...], EV_REL: [...], ...).
    public var capabilities: [UInt16: [UInt16]]
    /// Key codes already held down when the device was opened.
    public var keysHeldAtStart: [UInt16]
    /// CLOCK_MONOTONIC time the device was opened.
    public var firstSeenNs: Int64
    /// Which clock the source stamps its events with (`InputClockSource` raw value).
    public var clockSource: String
    /// Range and value at open of every EV_ABS code the device reports, by code.
    public var absAxes: [AbsAxis]
    /// EV_LED and EV_SW codes that were on when the device was opened, as (type, code, value).
    public var stateAtOpen: [OpenState]

    /// One absolute axis as `EVIOCGABS` describes it, with its value when the device was opened.
    public struct AbsAxis: Sendable, Equatable, Codable {
        public var code: UInt16
        public var minimum: Int32
        public var maximum: Int32
        public var fuzz: Int32
        public var flat: Int32
        public var resolution: Int32
        public var value: Int32

        public init(code: UInt16, minimum: Int32, maximum: Int32, fuzz: Int32, flat: Int32, resolution: Int32, value: Int32 = 0) {
            self.code = code
            self.minimum = minimum
            self.maximum = maximum
            self.fuzz = fuzz
            self.flat = flat
            self.resolution = resolution
            self.value = value
        }
    }

    /// One LED or switch that was on at open.
    public struct OpenState: Sendable, Equatable, Codable {
        public var type: UInt16
        public var code: UInt16
        public var value: Int32

        public init(type: UInt16, code: UInt16, value: Int32) {
            self.type = type
            self.code = code
            self.value = value
        }
    }

    public init(
        id: UInt16, name: String, path: String, bus: UInt16, vendor: UInt16, product: UInt16,
        version: UInt16, phys: String, uniq: String, kind: String,
        capabilities: [UInt16: [UInt16]], keysHeldAtStart: [UInt16], firstSeenNs: Int64,
        clockSource: InputClockSource = .monotonic, absAxes: [AbsAxis] = [], stateAtOpen: [OpenState] = []
    ) {
        self.clockSource = clockSource.rawValue
        self.absAxes = absAxes
        self.stateAtOpen = stateAtOpen
        self.id = id
        self.name = name
        self.path = path
        self.bus = bus
        self.vendor = vendor
        self.product = product
        self.version = version
        self.phys = phys
        self.uniq = uniq
        self.kind = kind
        self.capabilities = capabilities
        self.keysHeldAtStart = keysHeldAtStart
        self.firstSeenNs = firstSeenNs
    }
}

/// The clock a device's kernel timestamps are on before they are stored on CLOCK_MONOTONIC.
public enum InputClockSource: String, Sendable {
    /// EVIOCSCLOCKID switched the device to CLOCK_MONOTONIC: stamps are stored as read.
    case monotonic
    /// The device refused EVIOCSCLOCKID: its CLOCK_REALTIME stamps are shifted by the
    /// monotonic - realtime offset measured around each read.
    case realtime
    /// A replayed recording: the replay pump stamps release times on CLOCK_MONOTONIC.
    case replay
}

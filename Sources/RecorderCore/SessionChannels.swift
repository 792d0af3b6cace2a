/// The bounded channels between one session's producers (capture, input, state) and its writer, all
/// ringing one `Doorbell` so the writer sleeps on a single futex and wakes for whichever stream has work.
public struct SessionChannels: Sendable {
    /// How many items each channel holds before a producer counts a drop.
    public struct Capacities: Sendable, Equatable {
        public var frameSlots: Int
        public var events: Int
        public var devices: Int
        public var samples: Int
        public var windows: Int
        public var notes: Int

        public init(frameSlots: Int, events: Int, devices: Int, samples: Int, windows: Int, notes: Int) {
            self.frameSlots = frameSlots
            self.events = events
            self.devices = devices
            self.samples = samples
            self.windows = windows
            self.notes = notes
        }

        /// A recording session's: at 1000 Hz per device, 65536 events are over a minute of a stalled writer.
        public static let session = Capacities(frameSlots: 8, events: 65_536, devices: 1_024, samples: 4_096, windows: 1_024, notes: 4_096)
    }

    public let doorbell: Doorbell
    public let frames: FrameChannel
    public let events: SPSCRing<InputEvent>
    public let devices: BoundedMailbox<InputDeviceInfo>
    public let samples: BoundedMailbox<StateSample>
    public let windows: BoundedMailbox<WindowSnapshot>
    public let notes: BoundedMailbox<SessionNote>

    public init(capacities: Capacities = .session) {
        let doorbell = Doorbell()
        self.doorbell = doorbell
        frames = FrameChannel(slotCount: capacities.frameSlots, doorbell: doorbell)
        events = SPSCRing(capacity: capacities.events, doorbell: doorbell)
        devices = BoundedMailbox(capacity: capacities.devices, doorbell: doorbell)
        samples = BoundedMailbox(capacity: capacities.samples, doorbell: doorbell)
        windows = BoundedMailbox(capacity: capacities.windows, doorbell: doorbell)
        notes = BoundedMailbox(capacity: capacities.notes, doorbell: doorbell)
    }
}

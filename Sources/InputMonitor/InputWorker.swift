import Logging
import RecorderCore

/// The input thread: every evdev event of every device (and every replayed recording), in read
/// order with kernel timestamps, into the events ring; one `InputDeviceInfo` per device into the
/// devices mailbox before any of its events.
public final class InputWorker: Sendable {
    public static let threadName = "rec-input"

    let configuration: InputConfiguration
    let control: SessionControl
    let statistics: SessionStatistics
    let events: SPSCRing<InputEvent>
    let devices: BoundedMailbox<InputDeviceInfo>
    let notes: BoundedMailbox<SessionNote>
    let focusedWindow: FocusedWindow
    let logger: Logger

    public init(
        configuration: InputConfiguration, control: SessionControl, statistics: SessionStatistics,
        events: SPSCRing<InputEvent>, devices: BoundedMailbox<InputDeviceInfo>,
        notes: BoundedMailbox<SessionNote>, focusedWindow: FocusedWindow, logger: Logger
    ) {
        self.configuration = configuration
        self.control = control
        self.statistics = statistics
        self.events = events
        self.devices = devices
        self.notes = notes
        self.focusedWindow = focusedWindow
        self.logger = logger
    }

    /// Runs on its own NamedThread: parses replay files (a bad file fails the start-up naming the
    /// file and line), opens devices, arrives at `startup`, waits for the session start, then runs
    /// the epoll loop until the session stops (waking at least every 100 ms), then closes everything.
    /// With sources == [.none] it arrives and idles until stop.
    public func run(startup: StartupBarrier) {
        let wanted = configuration.sources.filter { $0 != .none }
        if wanted.isEmpty {
            startup.arrive(Self.threadName)
            while !control.shouldStop {
                statistics.inputHeartbeat.bump()
                _ = control.sleep(until: MonotonicClock.now() + 100_000_000)
            }
            return
        }
        let loop: InputLoop
        do throws(RecorderError) {
            loop = try InputLoop(
                configuration: configuration, control: control, statistics: statistics, events: events, devices: devices,
                focusedWindow: focusedWindow, notes: NoteSink(source: "input", logger: logger, mailbox: notes), logger: logger)
        } catch {
            startup.fail(Self.threadName, message: error.description)
            return
        }
        defer { loop.close() }
        do throws(RecorderError) {
            try loop.openSources(wanted)
        } catch {
            startup.fail(Self.threadName, message: error.description)
            return
        }
        startup.arrive(Self.threadName)
        guard control.waitForStart() != nil else { return }
        loop.run()
    }
}

#if canImport(Glibc)
import Glibc
#endif
import CEvdev
import CLinuxShim
import Foundation
import Logging
import RecorderCore

/// The input thread's state: one epoll set over every device (and the hotplug watch), the device
/// table, the focus-filter state and the drop accounting. Created, used and closed on that thread only.
final class InputLoop {
    /// Events taken from one device per wake-up before the others get their turn.
    static let maxEventsPerDrain = 4096
    /// Drains per device after the stop: up to 64 Ki queued events, yet bounded for a device that never pauses.
    static let finalDrainRounds = 16
    /// At most one "input-dropped" / "syn-dropped" note per this many nanoseconds.
    static let noteInterval: Int64 = 1_000_000_000

    let configuration: InputConfiguration
    let control: SessionControl
    let statistics: SessionStatistics
    let events: SPSCRing<InputEvent>
    let devices: BoundedMailbox<InputDeviceInfo>
    let focusedWindow: FocusedWindow
    let notes: NoteSink
    let logger: Logger
    let epollFD: Int32
    /// inotify on the devices folder, -1 when not watching.
    var inotifyFD: Int32 = -1
    /// inotify watch on the devices folder itself, -1 while it does not exist.
    var folderWatch: Int32 = -1
    /// inotify watch on the folder's parent, for a devices folder that appears (or comes back) later.
    var parentWatch: Int32 = -1
    var devicesByFD: [Int32: InputDevice] = [:]
    /// Opened devices whose row the devices mailbox has not accepted yet (not read until it has).
    var pendingDevices: [InputDevice] = []
    /// Nodes that failed to open, noted once until they change.
    var unreadablePaths: Set<String> = []
    /// Hotplugged nodes that failed their first open, with the time of their second try.
    var retryPaths: [String: Int64] = [:]
    /// How long after a failed first open a hotplugged node is tried again.
    static let hotplugRetryDelay: Int64 = 250_000_000
    var nextID: UInt16 = 0
    var pump: NamedThread?

    /// Focus filter state.
    var paused = false
    var pausedEvents: Int64 = 0
    /// Accounting flushed to the statistics once per wake-up.
    var readSinceFlush: Int64 = 0
    var pushedSinceRing = 0
    var droppedSinceNote: Int64 = 0
    var droppedTotal: Int64 = 0
    var lastDropNote: Int64 = 0
    var synDroppedSinceNote: Int64 = 0
    var synthesizedSinceNote: Int64 = 0
    var lastSynNote: Int64 = 0

    init(configuration: InputConfiguration, control: SessionControl, statistics: SessionStatistics, events: SPSCRing<InputEvent>,
         devices: BoundedMailbox<InputDeviceInfo>, focusedWindow: FocusedWindow, notes: NoteSink, logger: Logger) throws(RecorderError) {
        self.configuration = configuration
        self.control = control
        self.statistics = statistics
        self.events = events
        self.devices = devices
        self.focusedWindow = focusedWindow
        self.notes = notes
        self.logger = logger
        epollFD = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard epollFD >= 0 else { throw .failed("input: epoll_create1 failed: \(errnoText(errno))") }
    }

    /// Parses and opens the replays, opens every readable node for `auto` and starts the replay pump.
    func openSources(_ sources: [SessionOptions.InputSource]) throws(RecorderError) {
        var replays: [ReplayPump.Source] = []
        do throws(RecorderError) {
            for source in sources {
                guard case .replay(let path, let eventsPath) = source else { continue }
                let recording = try EvemuRecording.load(path: path, eventsPath: eventsPath)
                switch InputDevice.open(replay: recording, id: nextID) {
                case .success(let (device, writeFD)):
                    nextID &+= 1
                    replays.append(.init(events: recording.events, writeFD: writeFD))
                    add(device)
                    logger.info("replay device \(device.id) '\(device.info.name)' (\(device.info.kind)): \(recording.events.count) events from \(device.path), format \(recording.formatVersion)")
                case .failure(let failure):
                    throw .failed("input: \(failure.message)")
                }
            }
        } catch {
            // The pump owns the write ends only once it runs; until then they are ours to close.
            for replay in replays { Glibc.close(replay.writeFD) }
            throw error
        }
        if sources.contains(.auto) { startAutomatic() }
        if !replays.isEmpty {
            let pump = ReplayPump(sources: replays, control: control)
            do {
                self.pump = try NamedThread.spawn(name: ReplayPump.threadName) { pump.run() }
            } catch {
                for replay in replays { Glibc.close(replay.writeFD) }
                throw error
            }
        }
    }

    /// Epoll until the session stops, then one last drain of every device.
    func run() {
        var ready = [epoll_event](repeating: epoll_event(), count: 64)
        updateFocus()
        while !control.shouldStop {
            statistics.inputHeartbeat.bump()
            if !pendingDevices.isEmpty { retryPendingDevices() }
            if !retryPaths.isEmpty { retryDueNodes() }
            let count = ready.withUnsafeMutableBufferPointer { epoll_wait(epollFD, $0.baseAddress, Int32($0.count), 100) }
            if count < 0 {
                if errno != EINTR {
                    logger.error("epoll_wait failed: \(errnoText(errno))")
                    MonotonicClock.sleep(until: MonotonicClock.now() + 100_000_000)
                }
                continue
            }
            updateFocus()
            for index in 0..<Int(count) {
                let fd = ready[index].data.fd
                let flags = ready[index].events
                if fd == inotifyFD {
                    handleHotplug()
                } else if let device = devicesByFD[fd] {
                    service(device, epollFlags: flags)
                }
            }
            flushAccounting(force: false)
        }
        // Events already queued when the stop came are still part of the session.
        for device in Array(devicesByFD.values) {
            var outcome = drain(device)
            // A backlog past one drain's cap is still queued; a device that keeps producing ends at the bound.
            for _ in 1..<Self.finalDrainRounds {
                guard case .more = outcome else { break }
                outcome = drain(device)
            }
            if case .gone(let reason) = outcome { remove(device, reason: reason) }
        }
        flushAccounting(force: true)
        if paused && pausedEvents > 0 {
            notes.post("input-paused", "session ended while input was paused; \(pausedEvents) events were not stored")
        }
    }

    /// Reads one ready device and closes it when it went away.
    func service(_ device: InputDevice, epollFlags: UInt32) {
        switch drain(device) {
        case .gone(let reason):
            remove(device, reason: reason)
        case .empty where epollFlags & (EPOLLERR.rawValue | EPOLLHUP.rawValue | EPOLLRDHUP.rawValue) != 0:
            // Nothing to read but the fd reports an error, hang-up or end of file (libevdev reads an
            // end of file as "no events"): closing it avoids a busy loop.
            remove(device, reason: "hang-up")
        case .empty, .more:
            break
        }
    }

    /// Sends the device's row, then adds it to the epoll set; a full mailbox keeps it pending.
    func add(_ device: InputDevice) {
        if configuration.redactKeys {
            device.info.keysHeldAtStart = KeyRedaction.redactHeldKeys(device.info.keysHeldAtStart)
        }
        guard devices.trySend(device.info) else {
            logger.warning("devices mailbox full: device \(device.id) waits before being read")
            pendingDevices.append(device)
            return
        }
        register(device)
    }

    private func register(_ device: InputDevice) {
        var event = epoll_event()
        event.events = EPOLLIN.rawValue | EPOLLRDHUP.rawValue
        event.data.fd = device.fd
        guard epoll_ctl(epollFD, EPOLL_CTL_ADD, device.fd, &event) == 0 else {
            notes.post("device-removed", "device \(device.id) '\(device.info.name)' (\(device.path)) cannot be watched: \(errnoText(errno))", level: .info)
            return
        }
        devicesByFD[device.fd] = device
        statistics.inputDevices.bump()
    }

    private func retryPendingDevices() {
        var waiting: [InputDevice] = []
        for device in pendingDevices {
            if devices.trySend(device.info) { register(device) } else { waiting.append(device) }
        }
        pendingDevices = waiting
    }

    /// Takes a device out of the loop and closes it.
    func remove(_ device: InputDevice, reason: String) {
        epoll_ctl(epollFD, EPOLL_CTL_DEL, device.fd, nil)
        devicesByFD[device.fd] = nil
        notes.post("device-removed", "device \(device.id) '\(device.info.name)' (\(device.path)) closed: \(reason); \(device.eventsRead) events read, \(device.synDropped) SYN_DROPPED\(device.replacedNote)", level: .info)
    }

    /// Pauses or resumes storing when the focused window stops or starts matching `--input-focus`.
    func updateFocus() {
        guard let filter = configuration.focusFilter else { return }
        let window = focusedWindow.snapshot
        let allowed = window?.matches(filter) ?? false
        let described = window.map { "'\($0.title)' (\($0.wmClass))" } ?? "none"
        if !allowed && !paused {
            paused = true
            notes.post("input-paused", "input not stored: focused window \(described) does not match '\(filter)'")
        } else if allowed && paused {
            paused = false
            notes.post("input-resumed", "focused window \(described) matches '\(filter)'; \(pausedEvents) events were not stored while paused", level: .info)
            pausedEvents = 0
        }
    }

    /// Publishes counters, rings the writer once for the whole wake-up, and sends rate-limited notes.
    func flushAccounting(force: Bool) {
        if readSinceFlush > 0 {
            statistics.inputEvents.bump(readSinceFlush)
            readSinceFlush = 0
        }
        if pushedSinceRing > 0 {
            events.doorbell.ring()
            pushedSinceRing = 0
        }
        let now = MonotonicClock.now()
        if droppedSinceNote > 0 && (force || now - lastDropNote >= Self.noteInterval) {
            notes.post("input-dropped", "\(droppedSinceNote) input events dropped: the events ring was full (writer behind); \(droppedTotal) in this session")
            droppedSinceNote = 0
            lastDropNote = now
        }
        if synDroppedSinceNote > 0 && (force || now - lastSynNote >= Self.noteInterval) {
            notes.post("syn-dropped", "the kernel dropped events \(synDroppedSinceNote) time(s) (SYN_DROPPED stored as read); resync added \(synthesizedSinceNote) synthetic events")
            synDroppedSinceNote = 0
            synthesizedSinceNote = 0
            lastSynNote = now
        }
    }

    /// Closes every device, the watch, the epoll set, and joins the pump.
    func close() {
        if let pump, !pump.join(timeoutNanoseconds: 2_000_000_000) {
            logger.error("thread \(pump.name) did not stop within 2 s")
        }
        pump = nil
        for device in devicesByFD.values {
            logger.info("device \(device.id) '\(device.info.name)': \(device.eventsRead) events, \(device.synDropped) SYN_DROPPED\(device.replacedNote)")
        }
        devicesByFD.removeAll()
        pendingDevices.removeAll()
        if inotifyFD >= 0 { Glibc.close(inotifyFD) }
        inotifyFD = -1
        Glibc.close(epollFD)
    }
}

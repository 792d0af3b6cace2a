import CX11Shim
import Logging
import RecorderCore
#if canImport(Glibc)
import Glibc
#endif

/// The capture thread's working state for one session: connection, slots, target tracking and the loop.
///
/// Created and used on the capture thread only.
final class CaptureSession {
    let connection: CaptureConnection
    let grabber: FrameGrabber
    let geometry: FrameGeometry
    private let target: CaptureTarget
    private let configuration: CaptureConfiguration
    private let control: SessionControl
    private let statistics: SessionStatistics
    private let frames: FrameChannel
    private let notes: NoteSink
    private let logger: Logger
    /// Slots this thread may grab into; refilled from `frames.released`.
    private var freeSlots: [Int32]
    /// The followed window, when the target is a window.
    private var tracked: TrackedWindow?
    /// Consecutive failed grabs, to note the first and the recovery rather than every one.
    private var failedInARow = 0
    private var lastFailure = ""
    private var connectionLost = false

    /// The state of a `--window` target.
    private struct TrackedWindow {
        let text: String
        /// Nil once the window was destroyed; searched for again every `searchInterval`.
        var window: Window?
        var mapped: Bool
        var width: Int
        var height: Int
        var title: String
        var lastSearch: Int64 = 0
    }

    private static let searchIntervalNs: Int64 = 500_000_000
    /// Above this period the wait goes through `SessionControl.sleep`, so a stop request cuts it short.
    private static let interruptibleSleepAboveNs: Int64 = 34_000_000

    init(connection: CaptureConnection, grabber: FrameGrabber, target: CaptureTarget, configuration: CaptureConfiguration,
         control: SessionControl, statistics: SessionStatistics, frames: FrameChannel, notes: NoteSink,
         logger: Logger) {
        self.connection = connection
        self.grabber = grabber
        self.target = target
        self.configuration = configuration
        self.control = control
        self.statistics = statistics
        self.frames = frames
        self.notes = notes
        self.logger = logger
        freeSlots = (0..<Int32(grabber.pool.count)).reversed()
        geometry = FrameGeometry(width: target.width, height: target.height, usesSharedMemory: grabber.usesSharedMemory,
                                 target: configuration.targetDescription)
        if case .window(let text, let match) = target.kind {
            tracked = TrackedWindow(text: text, window: match.window, mapped: true, width: match.width,
                                    height: match.height, title: match.title)
            XSelectInput(connection.display, match.window, StructureNotifyMask)
        }
    }

    /// Grabs on the fps grid from `start` until a stop request or the loss of the display.
    func run(start: Int64) {
        let pacer = FramePacer(start: start, fps: configuration.fps)
        let period = pacer.deadline(of: 1) - pacer.deadline(of: 0)
        var tick: Int64 = 0
        while !control.shouldStop {
            let deadline = pacer.deadline(of: tick)
            if period > Self.interruptibleSleepAboveNs {
                if !control.sleep(until: deadline) { break }
            } else {
                MonotonicClock.sleep(until: deadline)
                if control.shouldStop { break }
            }
            let woke = MonotonicClock.now()
            statistics.captureHeartbeat.bump()
            captureTick(tick, wakeLateness: woke - deadline)
            if connectionLost || connection.isLost {
                connectionLost = true
                let detail = "the X server of display \(connection.name) closed the connection"
                notes.post("display-lost", detail, level: .error)
                control.requestStop(.displayLost, detail: detail)
                break
            }
            let (next, skipped) = pacer.next(after: tick, now: MonotonicClock.now())
            if skipped > 0 { statistics.ticksMissed.bump(skipped) }
            tick = next
        }
    }

    /// Detaches the segments and closes the connection (only client memory is freed when it was lost).
    func close() {
        connectionLost = connectionLost || connection.isLost
        grabber.release()
        connection.close()
    }

    /// One schedule slot: follow the target, take a free slot, grab, hand the frame to the writer.
    private func captureTick(_ tick: Int64, wakeLateness: Int64) {
        handlePendingEvents()
        if connection.isLost { return }
        if tracked != nil, !refreshTrackedWindow() {
            accountErrors()
            return
        }
        while let slot = frames.released.tryPop() { freeSlots.append(slot) }
        guard let slot = freeSlots.popLast() else {
            // The writer holds every slot: drop this frame rather than wait for it.
            statistics.framesDropped.bump()
            return
        }
        let grabStart = MonotonicClock.now()
        var timestamp: Int64
        var outcome: Bool?
        var grabEnd: Int64
        var located: Placement?
        if case .window = target.kind {
            // A window's position comes with the pointer query, so it goes first.
            guard var placement = locateTarget() else {
                freeSlots.append(slot)
                accountErrors()
                return
            }
            timestamp = MonotonicClock.now()
            outcome = grabber.grab(into: Int(slot), target: placement.rect, content: placement.content)
            grabEnd = MonotonicClock.now()
            // The query and the grab are two requests: a window moved between them was grabbed at its old
            // place. Look once more; if it moved, grab again where it is, so pixels and origin agree.
            if outcome != nil, let after = locateTarget() {
                if after.rect != placement.rect || after.content != placement.content {
                    timestamp = MonotonicClock.now()
                    outcome = grabber.grab(into: Int(slot), target: after.rect, content: after.content)
                    grabEnd = MonotonicClock.now()
                }
                placement = after
            }
            located = placement
        } else {
            // A fixed rectangle: the image request goes out first, right on the tick; the pointer query
            // follows it instead of delaying it behind a round trip to an X server busy with the game.
            let rect = fixedRectangle
            timestamp = MonotonicClock.now()
            outcome = grabber.grab(into: Int(slot), target: rect, content: rect)
            grabEnd = MonotonicClock.now()
            located = locateTarget()
        }
        let newErrors = accountErrors()
        guard !connection.isLost, let placement = located else {
            freeSlots.append(slot)
            return
        }
        guard let clipped = outcome else {
            freeSlots.append(slot)
            statistics.grabFailures.bump()
            failedInARow += 1
            lastFailure = newErrors > 0 ? connection.lastErrorDescription : "the server refused the image request"
            if failedInARow == 1 {
                notes.post("grab-failed", "grab of tick \(tick) failed: \(lastFailure); retrying every frame", level: .warning)
            }
            return
        }
        if failedInARow > 0 {
            notes.post("grab-recovered", "grabs work again after \(failedInARow) failed (last: \(lastFailure))", level: .info)
            failedInARow = 0
        }
        var flags = placement.flags
        if clipped { flags |= CapturedFrame.Flags.clipped }
        if !grabber.usesSharedMemory { flags |= CapturedFrame.Flags.withoutSharedMemory }
        let frame = CapturedFrame(
            pixels: UnsafeRawPointer(grabber.pool.addresses[Int(slot)]), slot: slot,
            width: Int32(target.width), height: Int32(target.height), bytesPerLine: Int32(grabber.bytesPerLine),
            tick: tick, timestampNs: timestamp, cursorX: placement.cursorX, cursorY: placement.cursorY,
            originX: Int32(placement.rect.x), originY: Int32(placement.rect.y), flags: flags)
        if frames.filled.tryPush(frame) {
            statistics.framesCaptured.bump()
        } else {
            freeSlots.append(slot)
            statistics.framesDropped.bump()
        }
        configuration.timings?.record(wakeLatenessNs: wakeLateness, grabNs: grabEnd - grabStart, imageNs: grabEnd - timestamp)
    }

    /// Where this frame's rectangle is and where the pointer is, from one XQueryPointer round trip.
    private struct Placement {
        var rect: PixelRect
        /// The part of `rect` the target covers (a shrunken window covers less).
        var content: PixelRect
        var cursorX: Int32
        var cursorY: Int32
        var flags: UInt32
    }

    /// The captured rectangle of a screen or region target.
    private var fixedRectangle: PixelRect {
        if case .region(let region) = target.kind { return region }
        return PixelRect(x: 0, y: 0, width: target.width, height: target.height)
    }

    /// Queries the pointer relative to the target: for a window this also gives its position
    /// (root position minus window-relative position), so finding it costs no extra round trip (the
    /// window path asks twice per frame, before and after the grab).
    private func locateTarget() -> Placement? {
        var rootReturn: Window = 0
        var childReturn: Window = 0
        var rootX: Int32 = 0, rootY: Int32 = 0, windowX: Int32 = 0, windowY: Int32 = 0
        var mask: UInt32 = 0
        let queried = tracked?.window ?? connection.root
        let errorsBefore = CX11Shim_error_count(connection.display)
        let sameScreen = XQueryPointer(connection.display, queried, &rootReturn, &childReturn,
                                       &rootX, &rootY, &windowX, &windowY, &mask) != 0
        let failed = CX11Shim_error_count(connection.display) != errorsBefore || connection.isLost
        if connection.isLost { return nil }
        let rect: PixelRect
        let content: PixelRect
        switch target.kind {
        case .screen, .region:
            rect = fixedRectangle
            content = rect
            // The root cannot vanish: a failed pointer query only loses the cursor.
            if failed { return Placement(rect: rect, content: content, cursorX: 0, cursorY: 0, flags: CapturedFrame.Flags.cursorUnknown) }
        case .window:
            guard let window = tracked, let id = window.window, !failed else {
                if failed { windowVanished(reason: "it no longer exists") }
                return nil
            }
            var originX = rootX - windowX
            var originY = rootY - windowY
            if !sameScreen {
                // The pointer is on another screen, so the query said nothing about the window: ask directly.
                var child: Window = 0
                guard XTranslateCoordinates(connection.display, id, connection.root, 0, 0, &originX, &originY, &child) != 0 else {
                    if !connection.isLost { windowVanished(reason: "it no longer exists") }
                    return nil
                }
            }
            rect = PixelRect(x: Int(originX), y: Int(originY), width: target.width, height: target.height)
            content = PixelRect(x: rect.x, y: rect.y, width: window.width, height: window.height)
        }
        let cursorFlags = sameScreen ? 0 : CapturedFrame.Flags.cursorUnknown
        return Placement(rect: rect, content: content, cursorX: rootX - Int32(rect.x), cursorY: rootY - Int32(rect.y), flags: cursorFlags)
    }

    /// Adds protocol errors seen since the last look to the session's count.
    @discardableResult
    private func accountErrors() -> UInt64 {
        let fresh = connection.takeNewErrors()
        if fresh > 0 { statistics.xErrors.bump(Int64(fresh)) }
        return fresh
    }
}

extension CaptureSession {
    /// Reads every queued event without blocking: target moves, resizes, unmaps, screen resizes.
    fileprivate func handlePendingEvents() {
        let display = connection.display
        var event = XEvent()
        while XPending(display) > 0 {
            XNextEvent(display, &event)
            switch event.type {
            case ConfigureNotify:
                let configure = event.xconfigure
                // A root ConfigureNotify anyone may send is no proof the screen changed; only the server's counts.
                if configure.window == connection.root, configure.send_event == 0 {
                    screenResized(width: Int(configure.width), height: Int(configure.height))
                } else if configure.window == tracked?.window {
                    tracked?.width = Int(configure.width)
                    tracked?.height = Int(configure.height)
                }
            case UnmapNotify where event.xunmap.window == tracked?.window:
                if tracked?.mapped == true {
                    tracked?.mapped = false
                    notes.post("target-lost", "window '\(tracked?.title ?? "")' was unmapped; no frames until it is mapped again", level: .warning)
                }
            case MapNotify where event.xmap.window == tracked?.window:
                if tracked?.mapped == false {
                    tracked?.mapped = true
                    notes.post("target-found", "window '\(tracked?.title ?? "")' is mapped again; frames resume", level: .info)
                }
            case DestroyNotify where event.xdestroywindow.window == tracked?.window:
                windowVanished(reason: "it was destroyed")
            default:
                if let base = connection.randrEventBase, event.type == base + RRScreenChangeNotify {
                    XRRUpdateConfiguration(&event)
                    let size = withUnsafePointer(to: &event) {
                        $0.withMemoryRebound(to: XRRScreenChangeNotifyEvent.self, capacity: 1) { ($0.pointee.width, $0.pointee.height) }
                    }
                    screenResized(width: Int(size.0), height: Int(size.1))
                }
            }
        }
    }

    /// Keeps W x H and records the change; the grab crops or pads from now on.
    private func screenResized(width: Int, height: Int) {
        guard width != connection.screenWidth || height != connection.screenHeight else { return }
        let before = "\(connection.screenWidth)x\(connection.screenHeight)"
        connection.screenWidth = width
        connection.screenHeight = height
        notes.post("resolution-changed", "screen changed from \(before) to \(width)x\(height); frames stay \(target.width)x\(target.height) (cropped or padded with black)", level: .warning)
    }

    /// The window is gone: note it once and start searching for a window matching the text again.
    fileprivate func windowVanished(reason: String) {
        guard let window = tracked, window.window != nil else { return }
        if window.mapped {
            notes.post("target-lost", "window '\(window.title)' is gone (\(reason)); searching for '\(window.text)' again", level: .warning)
        }
        tracked?.window = nil
        tracked?.mapped = false
        tracked?.lastSearch = MonotonicClock.now()
    }

    /// True when the followed window is there to grab; otherwise searches for it again now and then.
    fileprivate func refreshTrackedWindow() -> Bool {
        guard var window = tracked else { return true }
        if window.window != nil { return window.mapped }
        let now = MonotonicClock.now()
        guard now - window.lastSearch >= Self.searchIntervalNs else { return false }
        window.lastSearch = now
        tracked = window
        guard let match = connection.findWindow(matching: window.text) else { return false }
        XSelectInput(connection.display, match.window, StructureNotifyMask)
        tracked = TrackedWindow(text: window.text, window: match.window, mapped: true, width: match.width,
                                height: match.height, title: match.title, lastSearch: now)
        notes.post("target-found", "window '\(match.title)' matches '\(window.text)' (\(match.width)x\(match.height)); frames resume", level: .info)
        return true
    }
}

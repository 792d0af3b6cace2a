import Foundation
import RecorderCore
#if canImport(Glibc)
import Glibc
#endif

/// Split sessions (docs/FORMAT.md, "Parts"): the writer moves on to NAME.part(N+1).h5 at the first
/// frame boundary after the part's time or size limit.
///
/// The boundary is decided when a frame is prepared: that frame restarts the encoder (it is whole
/// and index 0 of the next part), and every frame prepared before it, already compressed against the
/// old reference, is appended to the old part. When the boundary frame reaches the head of the
/// pipeline the old part is sealed and the next one, laid out ahead under a hidden name at a quiet
/// moment, is renamed into place and receives the input devices and the input state at its start.
extension WriterLoop {
    /// The writer's counters when a part started; the part's `summary_json` is the difference.
    struct PartBase {
        var keyframes: Int64 = 0
        var storedBytes: Int64 = 0
        var events: Int64 = 0
        var samples: Int64 = 0
        var fast: Int64 = 0
        var unfiltered: Int64 = 0
        var takenOver: Int64 = 0
        var skipped: Int64 = 0
        var statistics: SessionStatistics.Snapshot
    }

    /// What a split session's writer tracks beside the open file.
    struct PartState {
        let sessionID: String
        /// NAME.h5 as given; never created.
        let output: String
        /// Ticks per part (`every_seconds * fps`), and bytes per part.
        let everyTicks: Int64?
        let sizeBytes: Int64?
        /// The part being appended to (1-based).
        var number = 1
        /// The part the frames being prepared belong to (ahead of `number` while a boundary frame is in the pipeline).
        var preparedNumber = 1
        /// Tick of the first frame prepared for `preparedNumber`.
        var preparedStartTick: Int64?
        var firstTick: Int64?
        var lastTick: Int64?
        var firstTimestamp: Int64?
        var lastTimestamp: Int64 = 0
        /// The last tick of the part before this one (-1 for part 1).
        var previousLastTick: Int64 = -1
        var base: PartBase
        /// Size of the part right after its layout, before any frame.
        var emptyBytes: Int64 = 0
        /// The next part, laid out under its hidden name, not yet writing.
        var next: SessionFile?
        var input = InputState()
        /// Longest rollover so far (seal the old part, move the next into place, write its device rows),
        /// and the one that opened the current part (0 for part 1).
        var rolloverMaxNs: Int64 = 0
        var lastRolloverNs: Int64 = 0

        init(configuration: WriterConfiguration, split: WriterConfiguration.Parts, statistics: SessionStatistics.Snapshot) {
            sessionID = split.sessionID
            output = configuration.path
            everyTicks = split.policy.everySeconds.map { max(1, Int64(($0 * Double(configuration.options.fps)).rounded())) }
            sizeBytes = split.policy.sizeBytes
            base = PartBase(statistics: statistics)
        }

        /// NAME.partNNNN.h5 beside the output.
        func path(_ number: Int) -> String { SessionManifest.partPath(output: output, number: number) }

        /// `.NAME.partNNNN.h5.next`: where part `number` is laid out before it is needed.
        func hiddenPath(_ number: Int) -> String {
            let final = path(number)
            let folder = (final as NSString).deletingLastPathComponent
            let name = "." + (final as NSString).lastPathComponent + ".next"
            return folder.isEmpty ? name : (folder as NSString).appendingPathComponent(name)
        }
    }

    /// Every input device seen so far and what is held, pressed or switched on now, so each part
    /// starts with its own /input/devices rows and the input state at its start.
    struct InputState {
        private(set) var devices: [InputDeviceInfo] = []
        private var index: [UInt16: Int] = [:]
        private var keys: [UInt16: Set<UInt16>] = [:]
        private var axes: [UInt16: [UInt16: Int32]] = [:]
        /// EV_LED and EV_SW values by device, keyed by type << 16 | code.
        private var switches: [UInt16: [UInt32: Int32]] = [:]

        static let evKey: UInt16 = 0x01, evAbs: UInt16 = 0x03, evSwitch: UInt16 = 0x05, evLED: UInt16 = 0x11

        mutating func remember(_ device: InputDeviceInfo) {
            if let at = index[device.id] { devices[at] = device } else {
                index[device.id] = devices.count
                devices.append(device)
            }
            keys[device.id] = Set(device.keysHeldAtStart)
            axes[device.id] = Dictionary(device.absAxes.map { ($0.code, $0.value) }, uniquingKeysWith: { $1 })
            switches[device.id] = Dictionary(device.stateAtOpen.map { (UInt32($0.type) << 16 | UInt32($0.code), $0.value) }, uniquingKeysWith: { $1 })
        }

        mutating func apply(_ event: InputEvent) {
            switch event.type {
            case Self.evKey:
                if event.value == 1 { keys[event.device, default: []].insert(event.code) }
                if event.value == 0 { keys[event.device]?.remove(event.code) }
            case Self.evAbs: axes[event.device, default: [:]][event.code] = event.value
            case Self.evLED, Self.evSwitch: switches[event.device, default: [:]][UInt32(event.type) << 16 | UInt32(event.code)] = event.value
            default: break
            }
        }

        /// Each device as a part starting now describes it: keys held, axis values, LEDs and switches on.
        var devicesNow: [InputDeviceInfo] {
            devices.map { device in
                var now = device
                now.keysHeldAtStart = (keys[device.id] ?? []).sorted()
                now.absAxes = device.absAxes.map { axis in
                    var axis = axis
                    axis.value = axes[device.id]?[axis.code] ?? axis.value
                    return axis
                }
                now.stateAtOpen = (switches[device.id] ?? [:]).filter { $0.value != 0 }.sorted { $0.key < $1.key }.map {
                    InputDeviceInfo.OpenState(type: UInt16($0.key >> 16), code: UInt16($0.key & 0xffff), value: $0.value)
                }
                return now
            }
        }
    }

    // MARK: Deciding

    /// True when the frame at `tick`, about to be prepared, is the first of a new part.
    func partBoundaryDue(tick: Int64) -> Bool {
        guard var state = parts else { return false }
        defer { parts = state }
        guard let start = state.preparedStartTick else {
            state.preparedStartTick = tick
            return false
        }
        var due = false
        if let every = state.everyTicks, tick - start >= every { due = true }
        // The size is known for the part being appended; while a boundary is in flight the new part is empty.
        if let size = state.sizeBytes, state.preparedNumber == state.number,
           state.emptyBytes + (storedBytes - state.base.storedBytes) + (eventsWritten - state.base.events) * 16 >= size {
            due = true
        }
        guard due, state.preparedNumber < SessionManifest.maxParts else { return false }
        state.preparedNumber += 1
        state.preparedStartTick = tick
        return true
    }

    // MARK: Preparing ahead

    /// Lays out the next part under its hidden name, when the writer has nothing else to do.
    func prepareNextPartIfNeeded() {
        guard var state = parts, state.next == nil, !writesStopped, state.number < SessionManifest.maxParts else { return }
        do {
            state.next = try makePart(number: state.number + 1, state: state)
        } catch {
            // Tried again at the boundary, where a failure ends the session.
            logger.warning("cannot prepare part \(state.number + 1) ahead: \(error.message)")
        }
        parts = state
    }

    private func makePart(number: Int, state: PartState) throws(RecorderErrorBox) -> SessionFile {
        let hidden = state.hiddenPath(number)
        // A hidden leftover of a killed session holds no data; the name is ours.
        unlink(hidden)
        return try SessionFile(configuration: configuration, path: hidden, part: .init(sessionID: state.sessionID, number: number),
                               startWriting: false)
    }

    // MARK: Rolling over

    /// Seals the current part and moves on to the next, right before the frame at `firstTick` is appended.
    func rollOver(firstTick: Int64) {
        guard var state = parts, !writesStopped else { return }
        let started = MonotonicClock.now()
        let number = state.number + 1
        var next: SessionFile?
        do {
            if let prepared = state.next {
                next = prepared
                state.next = nil
            } else {
                next = try makePart(number: number, state: state)
            }
            try next?.moveIntoPlace(state.path(number))
            try next?.beginPart(previousPartLastTick: state.lastTick ?? state.previousLastTick)
        } catch {
            // The session ends in the current part; a next part that never received data is removed.
            next?.discard()
            parts = state
            fail(error)
            return
        }
        guard let next else { return }
        let moved = MonotonicClock.now()
        // The old part is complete: seal it with its own counters, then switch.
        let old = file
        let summary = summaryJSON(p50: 0, p99: 0)
        let detail = "split: part \(state.number) continues in \((state.path(number) as NSString).lastPathComponent)"
        let outcome = seal(old, reason: .stopped, detail: detail, summary: summary, healthy: fileHealthy, partFinal: false)
        let sealed = MonotonicClock.now()
        parts = state
        partSealed(state: outcome.sealed ? "sealed" : "recovered")
        state = parts ?? state
        framesInEarlierParts += old.framesWritten
        file = next
        writeBehind?.follow(descriptor: file.pinned.descriptor)
        configuration.diskBudget?.rolledOver(sealedBytes: old.fileBytes, activeFile: (file.path as NSString).lastPathComponent)
        fileHealthy = true
        if !outcome.sealed {
            notes.post("part-repaired", "part \(state.number) could not be sealed cleanly (\(outcome.error ?? "?")); it was repaired")
        }
        state.previousLastTick = state.lastTick ?? state.previousLastTick
        state.number = number
        state.firstTick = nil
        state.lastTick = nil
        state.firstTimestamp = nil
        state.base = PartBase(keyframes: keyframes, storedBytes: storedBytes, events: eventsWritten, samples: samplesWritten,
                              fast: framesFast, unfiltered: framesUnfiltered, takenOver: framesTakenOver, skipped: mismatchedFrames, statistics: statistics.snapshot())
        do {
            for device in state.input.devicesNow { try file.appendDevice(device) }
            try file.writePending()
        } catch {
            parts = state
            fail(error)
            return
        }
        let took = MonotonicClock.now() - started
        state.rolloverMaxNs = max(state.rolloverMaxNs, took)
        state.lastRolloverNs = took
        parts = state
        partOpened(firstTick: firstTick)
        logger.info("part \(number) opened at tick \(firstTick) after \(took / 1000) µs of rollover (next part moved and started \((moved - started) / 1000) µs, previous sealed \((sealed - moved) / 1000) µs): \(file.path)")
    }

    // MARK: Bookkeeping

    /// Notes the frame just appended to the current part.
    func partAppended(_ frame: CapturedFrame) {
        guard var state = parts else { return }
        if state.firstTick == nil {
            state.firstTick = frame.tick
            state.firstTimestamp = frame.timestampNs
        }
        state.lastTick = frame.tick
        state.lastTimestamp = frame.timestampNs
        parts = state
    }

    /// The manifest row of the current part as it stands.
    func currentPartRow(state partState: String) -> SessionManifest.Part? {
        guard let state = parts else { return nil }
        return SessionManifest.Part(
            number: state.number, file: (file.path as NSString).lastPathComponent, state: partState,
            firstTick: state.firstTick, lastTick: state.lastTick, previousPartLastTick: state.previousLastTick,
            firstTimestampNs: state.firstTimestamp, lastTimestampNs: state.firstTimestamp == nil ? nil : state.lastTimestamp,
            frames: file.framesWritten, events: eventsWritten - state.base.events, samples: samplesWritten - state.base.samples,
            bytes: file.fileBytes)
    }

    /// Tells the part keeper that the current part receives data; `firstTick` is the tick of the frame
    /// about to open it (unknown for part 1).
    func partOpened(firstTick: Int64? = nil) {
        if var state = parts {
            state.emptyBytes = file.fileBytes
            parts = state
        }
        guard var row = currentPartRow(state: "recording") else { return }
        row.firstTick = row.firstTick ?? firstTick
        if partEvents?.trySend(.opened(row)) == false { logger.warning("part keeper's mailbox is full; part \(row.number) not announced") }
    }

    /// Tells the part keeper that the current part is sealed (`state` "sealed") or was repaired ("recovered").
    func partSealed(state partState: String) {
        guard let row = currentPartRow(state: partState) else { return }
        if partEvents?.trySend(.sealed(row)) == false { logger.warning("part keeper's mailbox is full; part \(row.number) not announced") }
    }
}

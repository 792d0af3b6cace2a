#if canImport(Glibc)
import Glibc
#endif
import CEvdev
import RecorderCore

/// Plays evemu recordings as live devices: writes each event as a raw `struct input_event` into
/// its device's socket at t0 + (event time - first event time), stamped with that release time.
///
/// It is the "kernel" of replay devices, on its own thread ("rec-replay"); the input thread reads
/// the sockets exactly as it reads /dev/input nodes. A full socket makes the pump wait (never drop),
/// so a replay is lossless even when the reader is late. Each socket is closed after its last event.
final class ReplayPump: Sendable {
    static let threadName = "rec-replay"
    /// Records per message (one SOCK_SEQPACKET message each; the reader's buffer holds 256).
    static let recordsPerWrite = 170

    /// One recording and the socket it is played into.
    struct Source: Sendable {
        var events: [EvemuRecording.Event]
        var writeFD: Int32
    }

    private let sources: [Source]
    private let control: SessionControl

    init(sources: [Source], control: SessionControl) {
        self.sources = sources
        self.control = control
    }

    /// The pump's thread body: waits for the session start, then plays every source to its end.
    func run() {
        var open = sources.map { $0.writeFD }
        defer { for fd in open where fd >= 0 { close(fd) } }
        guard let t0 = control.waitForStart() else { return }
        let bases = sources.map { $0.events.first?.timeNs ?? 0 }
        var next = [Int](repeating: 0, count: sources.count)
        let batch = UnsafeMutableBufferPointer<input_event>.allocate(capacity: Self.recordsPerWrite)
        defer { batch.deallocate() }

        while !control.shouldStop {
            // The source whose next event is due first.
            var chosen = -1
            var due = Int64.max
            for index in sources.indices where next[index] < sources[index].events.count {
                let release = t0 + sources[index].events[next[index]].timeNs - bases[index]
                if release < due { due = release; chosen = index }
            }
            guard chosen >= 0 else { return }
            guard control.sleep(until: due) else { return }
            // Everything of that source already due goes in one write, like one kernel packet.
            let now = MonotonicClock.now()
            let events = sources[chosen].events
            var count = 0
            while next[chosen] < events.count && count < Self.recordsPerWrite {
                let event = events[next[chosen]]
                let release = t0 + event.timeNs - bases[chosen]
                if count > 0 && release > now { break }
                batch[count] = Self.record(event, releasedAt: release)
                count += 1
                next[chosen] += 1
            }
            guard write(batch: batch, count: count, to: sources[chosen].writeFD) else {
                close(open[chosen])
                open[chosen] = -1
                next[chosen] = events.count
                continue
            }
            if next[chosen] == events.count {
                close(open[chosen])
                open[chosen] = -1
            }
        }
    }

    /// Writes `count` records atomically, waiting while the socket is full.
    /// - Returns: false when the reader is gone or the session stops.
    private func write(batch: UnsafeMutableBufferPointer<input_event>, count: Int, to fd: Int32) -> Bool {
        let bytes = count * MemoryLayout<input_event>.stride
        while !control.shouldStop {
            let written = send(fd, batch.baseAddress, bytes, Int32(MSG_NOSIGNAL))
            if written == bytes { return true }
            if written < 0 && errno == EINTR { continue }
            if written < 0 && errno == EAGAIN {
                var poller = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                _ = poll(&poller, 1, 100)
                continue
            }
            return false
        }
        return false
    }

    /// The kernel's record for `event`, stamped with its release time on CLOCK_MONOTONIC.
    static func record(_ event: EvemuRecording.Event, releasedAt release: Int64) -> input_event {
        var record = input_event()
        record.time.tv_sec = Int(release / 1_000_000_000)
        record.time.tv_usec = Int((release % 1_000_000_000) / 1000)
        record.type = event.type
        record.code = event.code
        record.value = event.value
        return record
    }
}

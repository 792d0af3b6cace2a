#if canImport(Glibc)
import Glibc
#endif
import CEvdev
import CLinuxShim
import RecorderCore

/// Decoding and storing: the one path every event takes, from a node or a replay.
extension InputLoop {
    /// What reading a device until EAGAIN ended with.
    enum DrainOutcome {
        /// Read until EAGAIN.
        case empty
        /// Stopped at `maxEventsPerDrain`; epoll reports it again.
        case more
        /// The device went away (ENODEV, end of replay, read error).
        case gone(String)
    }

    static let evSyn = UInt16(EV_SYN), synDropped = UInt16(SYN_DROPPED)

    /// Reads every waiting event of `device` (never one per wake-up) and stores each.
    func drain(_ device: InputDevice) -> DrainOutcome {
        switch device.reader {
        case .evdev(let handle): return drainEvdev(device, handle)
        case .raw: return drainRaw(device)
        }
    }

    /// libevdev's normal mode; on SYN_DROPPED the marker is stored as read, then libevdev's sync
    /// mode (until -EAGAIN) yields the state deltas, stored flagged synthetic.
    private func drainEvdev(_ device: InputDevice, _ handle: OpaquePointer) -> DrainOutcome {
        if device.clockRefusal != nil { device.measureClockOffset() }
        var raw = input_event()
        var taken = 0
        while taken < Self.maxEventsPerDrain {
            let rc = libevdev_next_event(handle, LIBEVDEV_READ_FLAG_NORMAL.rawValue, &raw)
            if rc == Int32(LIBEVDEV_READ_STATUS_SUCCESS.rawValue) {
                store(raw, from: device, flags: 0)
                taken += 1
            } else if rc == Int32(LIBEVDEV_READ_STATUS_SYNC.rawValue) {
                store(raw, from: device, flags: 0)
                var synthesized: Int64 = 0
                var status: Int32
                repeat {
                    status = libevdev_next_event(handle, LIBEVDEV_READ_FLAG_SYNC.rawValue, &raw)
                    if status == Int32(LIBEVDEV_READ_STATUS_SYNC.rawValue) {
                        store(raw, from: device, flags: InputEvent.Flags.synthetic)
                        synthesized += 1
                    }
                } while status == Int32(LIBEVDEV_READ_STATUS_SYNC.rawValue)
                synthesizedSinceNote += synthesized
                taken += 1 + Int(synthesized)
                if status < 0 && status != -EAGAIN && status != -EINTR {
                    return .gone("resync failed: \(errnoText(-status))")
                }
            } else if rc == -EAGAIN {
                return .empty
            } else if rc == -EINTR {
                continue
            } else {
                return .gone(rc == -ENODEV ? "device unplugged (ENODEV)" : "read failed: \(errnoText(-rc))")
            }
        }
        return .more
    }

    /// Whole `struct input_event` records from a replay socket or a node libevdev could not set
    /// up. A SYN_DROPPED there is stored as read: a recording has no kernel state behind it, and
    /// such a node gave none to libevdev, so no resync can add anything.
    private func drainRaw(_ device: InputDevice) -> DrainOutcome {
        guard let buffer = device.rawBuffer else { return .gone("no buffer") }
        if device.clockRefusal != nil { device.measureClockOffset() }
        var taken = 0
        while taken < Self.maxEventsPerDrain {
            let carry = device.rawCarry
            let count = read(device.fd, buffer.baseAddress! + carry, buffer.count - carry)
            if count > 0 {
                let bytes = carry + count
                let records = bytes / InputDevice.recordSize
                for index in 0..<records {
                    let raw = buffer.load(fromByteOffset: index * InputDevice.recordSize, as: input_event.self)
                    store(raw, from: device, flags: 0)
                }
                device.rawCarry = bytes - records * InputDevice.recordSize
                if device.rawCarry > 0 {
                    let tail = UnsafeRawBufferPointer(rebasing: buffer[(records * InputDevice.recordSize)..<bytes])
                    UnsafeMutableRawBufferPointer(rebasing: buffer[0..<device.rawCarry]).copyMemory(from: tail)
                }
                taken += records
            } else if count == 0 {
                return .gone(device.info.clockSource == InputClockSource.replay.rawValue ? "replay finished" : "end of file")
            } else if errno == EAGAIN {
                return .empty
            } else if errno == ENODEV {
                return .gone("device unplugged (ENODEV)")
            } else if errno != EINTR {
                return .gone("read failed: \(errnoText(errno))")
            }
        }
        return .more
    }

    /// Stamps, filters, redacts and pushes one event; a full ring counts a drop, never waits.
    @inline(__always)
    func store(_ raw: input_event, from device: InputDevice, flags: UInt16) {
        device.eventsRead += 1
        readSinceFlush += 1
        if raw.type == Self.evSyn && raw.code == Self.synDropped && flags & InputEvent.Flags.synthetic == 0 {
            device.synDropped += 1
            synDroppedSinceNote += 1
            statistics.inputSynDropped.bump()
        }
        if paused {
            pausedEvents += 1
            return
        }
        var stamp = Int64(raw.time.tv_sec) * 1_000_000_000 + Int64(raw.time.tv_usec) * 1000
        if device.clockRefusal != nil { stamp = device.monotonic(fromRealtime: stamp) }
        var event = InputEvent(
            tNs: stamp,
            device: device.id, type: raw.type, code: raw.code, value: raw.value, flags: flags
        )
        if configuration.redactKeys { KeyRedaction.apply(&event) }
        if events.tryPushQuietly(event) {
            pushedSinceRing += 1
        } else {
            droppedSinceNote += 1
            droppedTotal += 1
            statistics.inputDropped.bump()
        }
    }
}

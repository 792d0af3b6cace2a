#if canImport(Glibc)
import Glibc
#endif
import CEvdev
import CLinuxShim
import RecorderCore

/// One event source in the input thread's epoll loop: an evdev node or the read end of a replay socket.
///
/// Both carry raw `struct input_event` records and are decoded by the same code
/// (`InputLoop.drain`); only the fetch differs: libevdev for a node (so SYN_DROPPED can be
/// resynced from the kernel's state), plain `read(2)` for a replay socket.
/// Owned and used by the input thread only.
final class InputDevice {
    /// How events are fetched from `fd`.
    enum Reader {
        /// A /dev/input node opened through libevdev.
        case evdev(OpaquePointer)
        /// A socket fed by the replay pump with whole `struct input_event` records.
        case raw
    }

    /// Why a node could not be used.
    struct OpenFailure: Error {
        var message: String
    }

    let fd: Int32
    let reader: Reader
    var info: InputDeviceInfo
    /// SYN_DROPPED markers seen on this device.
    var synDropped: Int64 = 0
    /// Events read from this device (real and synthetic).
    var eventsRead: Int64 = 0
    /// Added to a stamp to put it on CLOCK_MONOTONIC: 0 unless the clock source is realtime.
    var clockOffsetNs: Int64 = 0
    /// Largest uncertainty of `clockOffsetNs` measured so far, in nanoseconds.
    var clockErrorNs: Int64 = 0
    /// Why the device kept CLOCK_REALTIME, nil when it is on CLOCK_MONOTONIC.
    var clockRefusal: String?
    /// Last stored stamp of a realtime device, the floor of the next one.
    var lastStampNs: Int64 = 0
    /// Realtime stamps that fell outside [previous stamp, read time] and were replaced by the read time.
    var replacedStamps: Int64 = 0
    /// What the device lacks when libevdev could not set it up, nil for a full device.
    var degraded: String?
    /// Receive buffer of the raw reader: a whole number of records.
    let rawBuffer: UnsafeMutableRawBufferPointer?
    /// Bytes of a record cut short by the last read, kept at the start of `rawBuffer` (a stream
    /// that is not a kernel node, such as an emulated one, may split a record across reads).
    var rawCarry = 0

    static let recordSize = MemoryLayout<input_event>.size
    static let rawBufferRecords = 256

    var id: UInt16 { info.id }
    var path: String { info.path }

    private init(fd: Int32, reader: Reader, info: InputDeviceInfo) {
        self.fd = fd
        self.reader = reader
        self.info = info
        if case .raw = reader {
            rawBuffer = .allocate(byteCount: Self.recordSize * Self.rawBufferRecords, alignment: 8)
        } else {
            rawBuffer = nil
        }
    }

    deinit {
        if case .evdev(let device) = reader { libevdev_free(device) }
        Glibc.close(fd)
        rawBuffer?.deallocate()
    }

    /// Opens an evdev node read-only and non-blocking (never grabbed), reads its description
    /// through libevdev and switches its clock to CLOCK_MONOTONIC.
    ///
    /// Only a node libevdev cannot describe (EVIOCGVERSION or EVIOCGBIT fail) is refused. A node
    /// that refuses EVIOCSCLOCKID (an emulated device, an old or foreign driver) keeps its
    /// CLOCK_REALTIME stamps, which each read converts (`clockOffsetNs`).
    static func open(evdevPath path: String, id: UInt16) -> Result<InputDevice, OpenFailure> {
        let fd = Glibc.open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else {
            return .failure(OpenFailure(message: "cannot open \(path): \(errnoText(errno))"))
        }
        var handle: OpaquePointer?
        let rc = libevdev_new_from_fd(fd, &handle)
        guard rc == 0, let handle else { return openWithoutLibevdev(fd: fd, path: path, id: id, libevdevError: -rc) }
        let clockStatus = libevdev_set_clock_id(handle, CLOCK_MONOTONIC)
        let clock: InputClockSource = clockStatus == 0 ? .monotonic : .realtime
        var capabilities: [UInt16: [UInt16]] = [:]
        for type in 0...UInt32(EV_MAX) where libevdev_has_event_type(handle, type) != 0 {
            let maximum = libevdev_event_type_get_max(type)
            guard maximum >= 0 else { continue }
            capabilities[UInt16(type)] = (0...UInt32(maximum))
                .filter { libevdev_has_event_code(handle, type, $0) != 0 }
                .map { UInt16($0) }
        }
        let properties = (0...UInt32(INPUT_PROP_MAX)).filter { libevdev_has_property(handle, $0) != 0 }.map { UInt16($0) }
        let held = (capabilities[UInt16(EV_KEY)] ?? []).filter {
            libevdev_get_event_value(handle, UInt32(EV_KEY), UInt32($0)) != 0
        }
        let axes = (capabilities[UInt16(EV_ABS)] ?? []).compactMap { code -> InputDeviceInfo.AbsAxis? in
            guard let abs = libevdev_get_abs_info(handle, UInt32(code))?.pointee else { return nil }
            return .init(code: code, minimum: abs.minimum, maximum: abs.maximum, fuzz: abs.fuzz, flat: abs.flat,
                         resolution: abs.resolution, value: abs.value)
        }
        var states: [InputDeviceInfo.OpenState] = []
        for type in [UInt16(EV_LED), UInt16(EV_SW)] {
            for code in capabilities[type] ?? [] {
                let value = libevdev_get_event_value(handle, UInt32(type), UInt32(code))
                if value != 0 { states.append(.init(type: type, code: code, value: value)) }
            }
        }
        let info = InputDeviceInfo(
            id: id, name: string(libevdev_get_name(handle)), path: path,
            bus: UInt16(truncatingIfNeeded: libevdev_get_id_bustype(handle)),
            vendor: UInt16(truncatingIfNeeded: libevdev_get_id_vendor(handle)),
            product: UInt16(truncatingIfNeeded: libevdev_get_id_product(handle)),
            version: UInt16(truncatingIfNeeded: libevdev_get_id_version(handle)),
            phys: string(libevdev_get_phys(handle)), uniq: string(libevdev_get_uniq(handle)),
            kind: DeviceClassifier.kind(of: capabilities, properties: properties),
            capabilities: capabilities, keysHeldAtStart: held, firstSeenNs: MonotonicClock.now(),
            clockSource: clock, absAxes: axes, stateAtOpen: states
        )
        let device = InputDevice(fd: fd, reader: .evdev(handle), info: info)
        if clockStatus != 0 {
            device.clockRefusal = "EVIOCSCLOCKID: \(errnoText(-clockStatus))"
            device.measureClockOffset()
        }
        return .success(device)
    }

    /// A node libevdev could not set up: libevdev asks for every bitmask and state, and an
    /// emulated or unusual node may refuse one of them. When it still answers EVIOCGVERSION it is
    /// evdev, and it is read with plain read(2) (the replay reader, so the decoding is the same);
    /// its description is what EVIOCGNAME, EVIOCGID and EVIOCGBIT answer, and no SYN_DROPPED
    /// resync is possible. Otherwise it is refused.
    private static func openWithoutLibevdev(fd: Int32, path: String, id: UInt16, libevdevError: Int32) -> Result<InputDevice, OpenFailure> {
        var driverVersion: Int32 = 0
        guard CLinuxShim_evdev_version(fd, &driverVersion) >= 0 else {
            let error = errno
            Glibc.close(fd)
            return .failure(OpenFailure(message: "\(path) is not an evdev device (EVIOCGVERSION: \(errnoText(error)); libevdev: \(errnoText(libevdevError)))"))
        }
        var name = [CChar](repeating: 0, count: 257)
        if CLinuxShim_evdev_name(fd, &name, Int32(name.count - 1)) < 0 { name[0] = 0 }
        var ids = input_id()
        if CLinuxShim_evdev_id(fd, &ids) < 0 { ids = input_id() }
        var capabilities: [UInt16: [UInt16]] = [:]
        var typeBits = [UInt8](repeating: 0, count: (Int(EV_MAX) + 8) / 8)
        if CLinuxShim_evdev_bits(fd, 0, &typeBits, Int32(typeBits.count)) >= 0 {
            for type in 0...Int(EV_MAX) where typeBits[type / 8] & (UInt8(1) << UInt8(type % 8)) != 0 {
                let maximum = Int(libevdev_event_type_get_max(UInt32(type)))
                guard maximum >= 0 else { capabilities[UInt16(type)] = []; continue }
                var codeBits = [UInt8](repeating: 0, count: (maximum + 8) / 8)
                let got = CLinuxShim_evdev_bits(fd, Int32(type), &codeBits, Int32(codeBits.count))
                var codes: [UInt16] = []
                if got >= 0 {
                    for code in 0...maximum where codeBits[code / 8] & (UInt8(1) << UInt8(code % 8)) != 0 { codes.append(UInt16(code)) }
                }
                capabilities[UInt16(type)] = codes
            }
        }
        let clockStatus = CLinuxShim_evdev_set_clock(fd, CLOCK_MONOTONIC)
        let clockError = errno
        let info = InputDeviceInfo(
            id: id, name: String(cBuffer: name), path: path, bus: ids.bustype, vendor: ids.vendor,
            product: ids.product, version: ids.version, phys: "", uniq: "",
            kind: DeviceClassifier.kind(of: capabilities, properties: []), capabilities: capabilities,
            keysHeldAtStart: [], firstSeenNs: MonotonicClock.now(), clockSource: clockStatus == 0 ? .monotonic : .realtime
        )
        let device = InputDevice(fd: fd, reader: .raw, info: info)
        device.degraded = "libevdev cannot set it up (\(errnoText(libevdevError))): read without libevdev, no SYN_DROPPED resync"
            + (capabilities.isEmpty ? ", capabilities unknown (EVIOCGBIT refused)" : "")
        if clockStatus != 0 {
            device.clockRefusal = "EVIOCSCLOCKID: \(errnoText(clockError))"
            device.measureClockOffset()
        }
        return .success(device)
    }

    /// CLOCK_MONOTONIC time of a CLOCK_REALTIME stamp `realtimeNs` read just now.
    ///
    /// The event happened after the device was opened (evdev queues nothing from before), no
    /// earlier than the device's previous event, and before it was read. A converted stamp outside
    /// that window (a wall-clock step, a source that does not stamp on CLOCK_REALTIME) is replaced
    /// by the read time and counted: the read time is inside the window and off by at most the
    /// read latency, where the stamp could be off by anything.
    @inline(__always)
    func monotonic(fromRealtime realtimeNs: Int64) -> Int64 {
        let converted = realtimeNs &+ clockOffsetNs
        let now = MonotonicClock.now()
        var stamp = converted
        if converted < max(lastStampNs, info.firstSeenNs) || converted > now {
            stamp = now
            replacedStamps += 1
        }
        lastStampNs = stamp
        return stamp
    }

    /// ", N realtime stamps ... replaced" when any were, for the closing messages.
    var replacedNote: String { replacedStamps > 0 ? ", \(replacedStamps) realtime stamps outside [previous stamp, read time] replaced by the read time" : "" }

    /// Re-measures `clockOffsetNs` for a realtime-stamped device; called before each read.
    ///
    /// The offset is the midpoint of the tightest of three monotonic/realtime/monotonic readings,
    /// so it is off by at most half that reading (well under a microsecond, kept in
    /// `clockErrorNs`); measuring at every read keeps a step of the wall clock (NTP, settimeofday)
    /// from lasting beyond the events already queued when it happened.
    @inline(__always)
    func measureClockOffset() {
        let (utcOffset, error) = MonotonicClock.measureUTCOffset(samples: 3)
        clockOffsetNs = -utcOffset
        if error > clockErrorNs { clockErrorNs = error }
    }

    /// Creates the read end of a replay device; the description comes from the recording.
    /// - Returns: the device and the socket end the pump writes to.
    static func open(replay recording: EvemuRecording, id: UInt16) -> Result<(InputDevice, Int32), OpenFailure> {
        // A SOCK_SEQPACKET pair: one send is one whole batch of records, and MSG_NOSIGNAL spares the
        // pump a SIGPIPE should the reader close first.
        var ends: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &ends) == 0 else {
            return .failure(OpenFailure(message: "cannot create the replay socket for \(recording.path): \(errnoText(errno))"))
        }
        let source = "replay:" + recording.path + (recording.eventsPath.map { ",\($0)" } ?? "")
        let info = InputDeviceInfo(
            id: id, name: recording.name, path: source, bus: recording.bus, vendor: recording.vendor,
            product: recording.product, version: recording.version, phys: "", uniq: "",
            kind: DeviceClassifier.kind(of: recording.capabilities, properties: recording.properties),
            capabilities: recording.capabilities, keysHeldAtStart: [], firstSeenNs: MonotonicClock.now(),
            clockSource: .replay, absAxes: recording.absInfo,
            stateAtOpen: recording.leds.filter { $0.value != 0 }.sorted { $0.key < $1.key }.map { .init(type: UInt16(EV_LED), code: $0.key, value: $0.value) }
                + recording.switches.filter { $0.value != 0 }.sorted { $0.key < $1.key }.map { .init(type: UInt16(EV_SW), code: $0.key, value: $0.value) }
        )
        return .success((InputDevice(fd: ends[0], reader: .raw, info: info), ends[1]))
    }

    private static func string(_ pointer: UnsafePointer<CChar>?) -> String {
        pointer.map { String(cString: $0) } ?? ""
    }
}

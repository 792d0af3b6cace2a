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
    /// Receive buffer of the raw reader: a whole number of records.
    let rawBuffer: UnsafeMutableRawBufferPointer?

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

    /// Opens an evdev node read-only and non-blocking (never grabbed), switches its clock to
    /// CLOCK_MONOTONIC and reads its description through libevdev.
    static func open(evdevPath path: String, id: UInt16) -> Result<InputDevice, OpenFailure> {
        let fd = Glibc.open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else {
            return .failure(OpenFailure(message: "cannot open \(path): \(errnoText(errno))"))
        }
        if CLinuxShim_EVIOCSCLOCKID(fd, CLOCK_MONOTONIC) != 0 {
            let error = errno
            Glibc.close(fd)
            return .failure(OpenFailure(message: "\(path) is not an evdev device (EVIOCSCLOCKID: \(errnoText(error)))"))
        }
        var handle: OpaquePointer?
        let rc = libevdev_new_from_fd(fd, &handle)
        guard rc == 0, let handle else {
            Glibc.close(fd)
            return .failure(OpenFailure(message: "libevdev cannot read \(path): \(errnoText(-rc))"))
        }
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
        let info = InputDeviceInfo(
            id: id, name: string(libevdev_get_name(handle)), path: path,
            bus: UInt16(truncatingIfNeeded: libevdev_get_id_bustype(handle)),
            vendor: UInt16(truncatingIfNeeded: libevdev_get_id_vendor(handle)),
            product: UInt16(truncatingIfNeeded: libevdev_get_id_product(handle)),
            version: UInt16(truncatingIfNeeded: libevdev_get_id_version(handle)),
            phys: string(libevdev_get_phys(handle)), uniq: string(libevdev_get_uniq(handle)),
            kind: DeviceClassifier.kind(of: capabilities, properties: properties),
            capabilities: capabilities, keysHeldAtStart: held, firstSeenNs: MonotonicClock.now()
        )
        return .success(InputDevice(fd: fd, reader: .evdev(handle), info: info))
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
            capabilities: recording.capabilities, keysHeldAtStart: [], firstSeenNs: MonotonicClock.now()
        )
        return .success((InputDevice(fd: ends[0], reader: .raw, info: info), ends[1]))
    }

    private static func string(_ pointer: UnsafePointer<CChar>?) -> String {
        pointer.map { String(cString: $0) } ?? ""
    }
}

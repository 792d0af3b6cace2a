"""Emulated evdev nodes for the live input tests: umockdev devices built from real devices' answers.

A device is described once (`Device`: name, ids, property and event bitmasks, absinfo, LED/switch
state) from an evemu `.desc` or from a umockdev ioctl dump, and written back as a umockdev device
(sysfs/udev description) plus an ioctl dump in the buffer sizes libevdev asks for, so
`umockdev-run` answers libevdev's set-up exactly as the kernel answered the device's recorder.
Events are parsed here independently of the Swift parser, so the tests compare the recording
against the fixture, not against the recorder's own reading of it.
"""
import os
import signal
import struct
import subprocess
import time

# Bitmask sizes (bytes) of libevdev 1.13's struct libevdev: NLONGS(TYPE_CNT) * 8.
EV_MASK_BYTES = {0x00: 8, 0x01: 96, 0x02: 8, 0x03: 8, 0x04: 8, 0x05: 8, 0x11: 8, 0x12: 8, 0x15: 16}
EV_SYN, EV_KEY, EV_REL, EV_ABS, EV_MSC, EV_SW, EV_LED, EV_REP = 0, 1, 2, 3, 4, 5, 0x11, 0x14
SYN_REPORT, SYN_DROPPED = 0, 3
EVENT = struct.Struct("<qqHHi")  # 64-bit struct input_event: tv_sec, tv_usec, type, code, value


class Device:
    """What the kernel tells about one evdev node."""

    def __init__(self, name, ids, props=b"", bits=None, absinfo=None, leds=None, switches=None, rep=None):
        self.name = name
        self.ids = ids                      # (bus, vendor, product, version)
        self.props = bytes(props)
        self.bits = dict(bits or {})        # type -> bytes (type 0: the types)
        self.absinfo = dict(absinfo or {})  # code -> (value, min, max, fuzz, flat, resolution)
        self.leds = dict(leds or {})
        self.switches = dict(switches or {})
        self.rep = rep                      # (delay, period) or None

    def codes(self, event_type):
        mask = self.bits.get(event_type, b"")
        return [i for i in range(len(mask) * 8) if mask[i // 8] >> (i % 8) & 1]

    def has_type(self, event_type):
        return event_type in self.codes(0)


def parse_evemu(path):
    """(Device, [(time_s, type, code, value)]) from an evemu file (description and/or events)."""
    name, ids, props, bits, absinfo, leds, switches, events = "", (0, 0, 0, 0), b"", {}, {}, {}, {}, []
    with open(path, encoding="utf-8", errors="replace") as f:
        for raw in f:
            line = raw.rstrip("\n")
            if line.startswith("N:"):
                name = line[2:].strip()
                continue
            line = line.split("#", 1)[0].strip()
            if not line or ":" not in line:
                continue
            tag, rest = line.split(":", 1)
            fields = rest.split()
            if tag == "I":
                ids = tuple(int(x, 16) for x in fields)
            elif tag == "P":
                props += bytes(int(x, 16) for x in fields)
            elif tag == "B":
                event_type = int(fields[0], 16)
                bits[event_type] = bits.get(event_type, b"") + bytes(int(x, 16) for x in fields[1:])
            elif tag == "A":
                numbers = [int(x) for x in fields[1:]] + [0]
                absinfo[int(fields[0], 16)] = (0, *numbers[:5])
            elif tag == "L":
                leds[int(fields[0], 16)] = int(fields[1])
            elif tag == "S":
                switches[int(fields[0], 16)] = int(fields[1])
            elif tag == "E":
                events.append((float(fields[0]), int(fields[1], 16), int(fields[2], 16), int(fields[3])))
    return Device(name, ids, props, bits, absinfo, leds, switches), events


def parse_ioctl_dump(path):
    """A Device from a umockdev ioctl dump recorded from a real node (evtest's buffer sizes)."""
    answers = {}
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 3:
                answers[parts[0]] = bytes.fromhex(parts[2])
    name = answers.get("EVIOCGNAME(0)", b"").split(b"\0")[0].decode()
    ids = struct.unpack("<HHHH", answers["EVIOCGID"][:8])
    bits = {}
    for key, data in answers.items():
        if key.startswith("EVIOCGBIT("):
            bits[int(key[len("EVIOCGBIT("):-1])] = data
    rep = struct.unpack("<ii", answers["EVIOCGREP"][:8]) if "EVIOCGREP" in answers else None
    return Device(name, ids, answers.get("EVIOCGPROP(0)", b""), bits, rep=rep)


def parse_script(path):
    """[(delay_ms, [(type, code, value)])] of a umockdev read script (`r DELAY DATA`, caret-encoded)."""
    out = []
    with open(path, "rb") as f:
        for line in f.read().split(b"\n"):
            if not line.startswith(b"r "):
                continue
            _, delay, data = line.split(b" ", 2)
            decoded, i = bytearray(), 0
            while i < len(data):
                if data[i] == ord("^"):
                    nxt = data[i + 1]
                    decoded.append(ord("^") if nxt == ord("`") else (nxt - 64) & 0xFF)
                    i += 2
                else:
                    decoded.append(data[i])
                    i += 1
            assert len(decoded) % EVENT.size == 0, (path, len(decoded))
            records = [EVENT.unpack_from(decoded, o)[2:] for o in range(0, len(decoded), EVENT.size)]
            out.append((int(delay), records))
    return out


def _mask(data, size):
    return (bytes(data) + bytes(size))[:size]


def write_umockdev(device, folder, node):
    """Writes `event{node}.umockdev` and `event{node}.ioctl`; returns (device file, ioctl file, /dev path)."""
    minor = 64 + node
    devpath = "/dev/input/event%d" % node
    sysfs = "/devices/virtual/input/input%d" % (100 + node)
    description = (
        "P: %s/event%d\nN: input/event%d\nE: DEVNAME=%s\nE: MAJOR=13\nE: MINOR=%d\nE: SUBSYSTEM=input\n"
        "E: ID_INPUT=1\nA: dev=13:%d\n\nP: %s\nE: NAME=\"%s\"\nE: SUBSYSTEM=input\nA: name=%s\\n\n"
        % (sysfs, node, node, devpath, minor, minor, sysfs, device.name, device.name))
    lines = ["EVIOCGVERSION 0 %s" % struct.pack("<i", 0x010001).hex().upper(),
             "EVIOCGID 0 %s" % struct.pack("<HHHH", *device.ids).hex().upper()]
    name = device.name.encode()[:254]
    lines.append("EVIOCGNAME(0) %d %s" % (len(name) + 1, _mask(name, 255).hex().upper()))
    lines.append("EVIOCGPROP(0) 8 %s" % _mask(device.props, 8).hex().upper())
    for event_type, size in EV_MASK_BYTES.items():
        lines.append("EVIOCGBIT(%d) %d %s" % (event_type, size, _mask(device.bits.get(event_type, b""), size).hex().upper()))
    keys = bytearray(96)
    lines.append("EVIOCGKEY(0) 96 %s" % bytes(keys).hex().upper())
    for ioctl_name, states in (("EVIOCGLED(0)", device.leds), ("EVIOCGSW(0)", device.switches)):
        mask = bytearray(8)
        for code, value in states.items():
            if value:
                mask[code // 8] |= 1 << (code % 8)
        lines.append("%s 8 %s" % (ioctl_name, bytes(mask).hex().upper()))
    if device.has_type(EV_REP):
        lines.append("EVIOCGREP 0 %s" % struct.pack("<ii", *(device.rep or (250, 33))).hex().upper())
    for code in device.codes(EV_ABS):
        info = device.absinfo.get(code, (0, 0, 0, 0, 0, 0))
        lines.append("EVIOCGABS(%d) 0 %s" % (code, struct.pack("<6i", *info).hex().upper()))
    base = os.path.join(folder, "event%d" % node)
    with open(base + ".umockdev", "w") as f:
        f.write(description)
    with open(base + ".ioctl", "w") as f:
        f.write("\n".join(lines) + "\n")
    return base + ".umockdev", base + ".ioctl", devpath


def _caret(data):
    """umockdev's script encoding: bytes below 0x20 as ^@..^_, '^' as ^`, the rest as they are."""
    out = bytearray()
    for byte in data:
        if byte < 0x20:
            out += b"^" + bytes([byte + 64])
        elif byte == ord("^"):
            out += b"^`"
        else:
            out.append(byte)
    return bytes(out)


LEAD_MS = 2500


def write_script(events, path, delay_ms=2, lead_ms=LEAD_MS):
    """A umockdev read script of `events` (order and values kept): one `r` record per frame (the
    events up to and including a SYN_REPORT), `delay_ms` apart, stamped with the events' own times;
    the first comes `lead_ms` after the node is opened.

    umockdev backs the node with a pty, and a pty read returns at most 4095 bytes: a backlog larger
    than that (the recorder opens its devices at start-up but reads them from the session start)
    comes out with a record cut in two, which libevdev refuses (EINVAL) and a kernel never does.
    The lead lets the session start before the first frame; the spacing keeps the backlog small.
    """
    records, frame = [], []
    for event in events:
        frame.append(event)
        if tuple(event[1:3]) == (EV_SYN, SYN_REPORT):
            records.append((lead_ms if not records else delay_ms, frame))
            frame = []
    if frame:
        records.append((lead_ms if not records else delay_ms, frame))
    return write_script_records(records, path)


def write_script_records(records, path):
    """A umockdev read script of [(delay_ms, [(time_s, type, code, value)])], one `r` line each."""
    lines = []
    for delay_ms, frame in records:
        data = b"".join(EVENT.pack(int(when), int(round((when - int(when)) * 1e6)), t, c, v) for when, t, c, v in frame)
        lines.append(b"r %d " % delay_ms + _caret(data))
    with open(path, "wb") as f:
        f.write(b"\n".join(lines) + b"\n")
    return path


def record_under_umockdev(recorder, display, output, duration, devices, extra=(), timeout=90):
    """Runs `recorder record --input auto` under umockdev-run with `devices`
    [(umockdev file, ioctl file, /dev path, feed option or None, feed file)] and returns the
    recorder's (returncode, stderr).

    umockdev-run waits for its event feeders, which outlive the program and ignore SIGTERM, so the
    recorder reports its exit code through a file and the whole process group is then killed.
    """
    status = output + ".rc"
    log = output + ".log"
    command = ["umockdev-run"]
    for device_file, ioctl_file, devpath, feed, feed_file in devices:
        command += ["-d", device_file, "-i", "%s=%s" % (devpath, ioctl_file)]
        if feed:
            command += [feed, "%s=%s" % (devpath, feed_file)]
    inner = " ".join("'%s'" % a for a in [recorder, "record", "--display", display, "--output", output,
                                          "--duration", str(duration), "--input", "auto", *extra])
    command += ["--", "sh", "-c", "%s 2>'%s'; echo $? > '%s'" % (inner, log, status)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + timeout
    try:
        while not (os.path.exists(status) and open(status).read().strip()):
            assert time.monotonic() < deadline, "recorder under umockdev did not finish"
            assert process.poll() is None or os.path.exists(status), "umockdev-run ended early"
            time.sleep(0.1)
    finally:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait(timeout=10)
    with open(log) as f:
        return int(open(status).read()), f.read()

"""Names of evdev event types, enough to label summaries and plots."""

EV_SYN = 0x00
EV_KEY = 0x01
EV_REL = 0x02
EV_ABS = 0x03
EV_MSC = 0x04
EV_SW = 0x05
EV_LED = 0x11
EV_SND = 0x12
EV_REP = 0x14
EV_FF = 0x15
EV_PWR = 0x16
EV_FF_STATUS = 0x17

EVENT_TYPE_NAMES = {
    EV_SYN: "EV_SYN",
    EV_KEY: "EV_KEY",
    EV_REL: "EV_REL",
    EV_ABS: "EV_ABS",
    EV_MSC: "EV_MSC",
    EV_SW: "EV_SW",
    EV_LED: "EV_LED",
    EV_SND: "EV_SND",
    EV_REP: "EV_REP",
    EV_FF: "EV_FF",
    EV_PWR: "EV_PWR",
    EV_FF_STATUS: "EV_FF_STATUS",
}

#: /input/events flags bits.
EVENT_FLAG_SYNTHETIC = 1 << 0
EVENT_FLAG_REDACTED = 1 << 1

#: /video/flags bits.
FRAME_FLAG_CURSOR_UNKNOWN = 1 << 0
FRAME_FLAG_CLIPPED = 1 << 1
FRAME_FLAG_NO_SHM = 1 << 2


def event_type_name(event_type: int) -> str:
    """The EV_* name of an evdev event type, or ``EV_0x..`` when unknown."""
    return EVENT_TYPE_NAMES.get(int(event_type), "EV_0x%02x" % int(event_type))


_libevdev = None


def event_code_name(event_type: int, code: int) -> str:
    """The KEY_*/BTN_*/REL_*/ABS_* name of an evdev code (libevdev's table), or ``TYPE:code`` without libevdev."""
    global _libevdev
    if _libevdev is None:
        import ctypes
        import ctypes.util

        try:
            lib = ctypes.CDLL(ctypes.util.find_library("evdev") or "libevdev.so.2")
            lib.libevdev_event_code_get_name.restype = ctypes.c_char_p
            lib.libevdev_event_code_get_name.argtypes = (ctypes.c_uint, ctypes.c_uint)
            _libevdev = lib
        except OSError:
            _libevdev = False
    if _libevdev:
        name = _libevdev.libevdev_event_code_get_name(int(event_type), int(code))
        if name:
            return name.decode("ascii", errors="replace")
    return "%s:%d" % (event_type_name(event_type), int(code))

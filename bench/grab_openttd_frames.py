"""Grabs consecutive 1920x1080 frames of a running X display as raw BGRX (XGetImage via ctypes).

Usage: DISPLAY=:77 python3 bench/grab_openttd_frames.py OUT.bgrx [COUNT] [FPS]
Writes COUNT frames of width*height*4 bytes each (rows packed, no padding) and prints the geometry.
"""
import ctypes, ctypes.util, sys, time

x11 = ctypes.CDLL(ctypes.util.find_library("X11"))
x11.XOpenDisplay.restype = ctypes.c_void_p
x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
x11.XDefaultRootWindow.restype = ctypes.c_ulong
x11.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
x11.XGetImage.restype = ctypes.c_void_p
x11.XGetImage.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.c_int, ctypes.c_uint, ctypes.c_uint,
                          ctypes.c_ulong, ctypes.c_int]
x11.XDestroyImage = None


class XImage(ctypes.Structure):
    _fields_ = [("width", ctypes.c_int), ("height", ctypes.c_int), ("xoffset", ctypes.c_int), ("format", ctypes.c_int),
                ("data", ctypes.c_void_p), ("byte_order", ctypes.c_int), ("bitmap_unit", ctypes.c_int),
                ("bitmap_bit_order", ctypes.c_int), ("bitmap_pad", ctypes.c_int), ("depth", ctypes.c_int),
                ("bytes_per_line", ctypes.c_int), ("bits_per_pixel", ctypes.c_int)]


def main():
    out, count, fps = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 60, float(sys.argv[3]) if len(sys.argv) > 3 else 60
    display = x11.XOpenDisplay(None)
    root = x11.XDefaultRootWindow(display)
    w, h = 1920, 1080
    frames = []
    start = time.monotonic()
    for i in range(count):
        deadline = start + i / fps
        while time.monotonic() < deadline:
            time.sleep(0.001)
        image = ctypes.cast(x11.XGetImage(display, root, 0, 0, w, h, 0xFFFFFFFF, 2), ctypes.POINTER(XImage)).contents
        assert image.bits_per_pixel == 32 and image.bytes_per_line == w * 4
        frames.append(ctypes.string_at(image.data, w * h * 4))
    with open(out, "wb") as f:
        for frame in frames:
            f.write(frame)
    distinct = len(set(frames))
    print(f"{count} frames {w}x{h} BGRX -> {out}; {distinct} distinct; {time.monotonic() - start:.2f} s")


main()

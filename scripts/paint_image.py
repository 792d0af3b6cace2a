#!/usr/bin/env python3
"""Shows an exact RGB image on an X display with plain Xlib through ctypes, for pixel-exact tests.

    paint_image.py DISPLAY IMAGE.rgb W H root
        sets the image as the root window's background (stays until the server ends)
    paint_image.py DISPLAY IMAGE.rgb W H window X Y TITLE [MOVES [SECONDS]]
        maps a W x H window at X,Y titled TITLE with the image as its background; MOVES is a
        comma-separated list of X:Y positions. On SIGUSR1 it moves to each in turn, one every
        SECONDS (0.4), holds the last one as long and prints "moved"; then it stays.
Prints "ready" once the image is on screen, then sleeps until killed. The moves wait for the
signal so a test can start them once its recording runs, however long a loaded machine takes.
"""
import ctypes
import ctypes.util
import signal
import sys
import time

xlib = ctypes.CDLL(ctypes.util.find_library("X11"))
vp, ul, ci, cu = ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.c_uint
for name, restype, argtypes in [
    ("XOpenDisplay", vp, [ctypes.c_char_p]),
    ("XDefaultScreen", ci, [vp]),
    ("XRootWindow", ul, [vp, ci]),
    ("XDefaultVisual", vp, [vp, ci]),
    ("XDefaultDepth", ci, [vp, ci]),
    ("XCreatePixmap", ul, [vp, ul, cu, cu, cu]),
    ("XCreateGC", vp, [vp, ul, ul, vp]),
    ("XCreateImage", vp, [vp, vp, cu, ci, ci, ctypes.c_char_p, cu, cu, ci, ci]),
    ("XPutImage", ci, [vp, ul, vp, vp, ci, ci, ci, ci, cu, cu]),
    ("XSetWindowBackgroundPixmap", ci, [vp, ul, ul]),
    ("XClearWindow", ci, [vp, ul]),
    ("XCreateSimpleWindow", ul, [vp, ul, ci, ci, cu, cu, cu, ul, ul]),
    ("XStoreName", ci, [vp, ul, ctypes.c_char_p]),
    ("XMapWindow", ci, [vp, ul]),
    ("XMoveWindow", ci, [vp, ul, ci, ci]),
    ("XSync", ci, [vp, ci]),
]:
    fn = getattr(xlib, name)
    fn.restype, fn.argtypes = restype, argtypes

ZPixmap = 2


def main():
    # Blocked before "ready", so a signal sent right after it waits here instead of killing us.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
    display_name, path, width, height, mode = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
    rgb = open(path, "rb").read()
    assert len(rgb) == width * height * 3, "image size does not match W x H x 3"
    bgrx = bytearray(width * height * 4)
    bgrx[0::4], bgrx[1::4], bgrx[2::4] = rgb[2::3], rgb[1::3], rgb[0::3]
    display = xlib.XOpenDisplay(display_name.encode())
    if not display:
        sys.exit(f"paint_image: cannot open display {display_name}")
    screen = xlib.XDefaultScreen(display)
    root = xlib.XRootWindow(display, screen)
    depth = xlib.XDefaultDepth(display, screen)
    buffer = ctypes.create_string_buffer(bytes(bgrx), len(bgrx))
    image = xlib.XCreateImage(display, xlib.XDefaultVisual(display, screen), depth, ZPixmap, 0,
                              ctypes.cast(buffer, ctypes.c_char_p), width, height, 32, width * 4)
    pixmap = xlib.XCreatePixmap(display, root, width, height, depth)
    gc = xlib.XCreateGC(display, pixmap, 0, None)
    xlib.XPutImage(display, pixmap, gc, image, 0, 0, 0, 0, width, height)
    moves = []
    if mode == "root":
        xlib.XSetWindowBackgroundPixmap(display, root, pixmap)
        xlib.XClearWindow(display, root)
    else:
        x, y, title = int(sys.argv[6]), int(sys.argv[7]), sys.argv[8]
        moves = [tuple(int(v) for v in m.split(":")) for m in sys.argv[9].split(",")] if len(sys.argv) > 9 and sys.argv[9] else []
        window = xlib.XCreateSimpleWindow(display, root, x, y, width, height, 0, 0, 0)
        xlib.XSetWindowBackgroundPixmap(display, window, pixmap)
        xlib.XStoreName(display, window, title.encode())
        xlib.XMapWindow(display, window)
    xlib.XSync(display, 0)
    time.sleep(0.2)
    print("ready", flush=True)
    pause = float(sys.argv[10]) if mode == "window" and len(sys.argv) > 10 else 0.4
    if moves:
        signal.sigwait({signal.SIGUSR1})
        for mx, my in moves:
            time.sleep(pause)
            xlib.XMoveWindow(display, window, mx, my)
            xlib.XSync(display, 0)
        time.sleep(pause)
        print("moved", flush=True)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()

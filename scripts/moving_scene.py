#!/usr/bin/env python3
"""Paints a moving scene on an X display with plain Xlib through ctypes (no extra packages).

Used by `make demo` and tests: coloured bars sweep across a window covering the screen, a
square bounces, and a counter strip changes every frame, so consecutive frames differ.
"""
import ctypes
import ctypes.util
import math
import os
import sys
import time

xlib = ctypes.CDLL(ctypes.util.find_library("X11"))
xlib.XOpenDisplay.restype = ctypes.c_void_p
xlib.XOpenDisplay.argtypes = [ctypes.c_char_p]
xlib.XDefaultScreen.argtypes = [ctypes.c_void_p]
xlib.XRootWindow.restype = ctypes.c_ulong
xlib.XRootWindow.argtypes = [ctypes.c_void_p, ctypes.c_int]
xlib.XDisplayWidth.argtypes = [ctypes.c_void_p, ctypes.c_int]
xlib.XDisplayHeight.argtypes = [ctypes.c_void_p, ctypes.c_int]
xlib.XCreateSimpleWindow.restype = ctypes.c_ulong
xlib.XCreateSimpleWindow.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.c_int,
                                     ctypes.c_uint, ctypes.c_uint, ctypes.c_uint, ctypes.c_ulong, ctypes.c_ulong]
xlib.XMapWindow.argtypes = [ctypes.c_void_p, ctypes.c_ulong]
xlib.XStoreName.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_char_p]
xlib.XCreateGC.restype = ctypes.c_void_p
xlib.XCreateGC.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_void_p]
xlib.XSetForeground.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_ulong]
xlib.XFillRectangle.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_void_p, ctypes.c_int, ctypes.c_int,
                                ctypes.c_uint, ctypes.c_uint]
xlib.XFlush.argtypes = [ctypes.c_void_p]
xlib.XSync.argtypes = [ctypes.c_void_p, ctypes.c_int]


def main():
    display_name = (sys.argv[1] if len(sys.argv) > 1 else os.environ.get("DISPLAY", ":0")).encode()
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 3600.0
    display = xlib.XOpenDisplay(display_name)
    if not display:
        sys.exit(f"moving_scene: cannot open display {display_name.decode()}")
    screen = xlib.XDefaultScreen(display)
    width, height = xlib.XDisplayWidth(display, screen), xlib.XDisplayHeight(display, screen)
    window = xlib.XCreateSimpleWindow(display, xlib.XRootWindow(display, screen), 0, 0, width, height, 0, 0, 0x202020)
    xlib.XStoreName(display, window, b"recorder moving scene")
    xlib.XMapWindow(display, window)
    gc = xlib.XCreateGC(display, window, 0, None)
    start = time.monotonic()
    frame = 0
    while time.monotonic() - start < seconds:
        t = time.monotonic() - start
        xlib.XSetForeground(display, gc, 0x202020)
        xlib.XFillRectangle(display, window, gc, 0, 0, width, height)
        for i in range(6):
            x = int((t * 120 + i * width / 6) % width)
            xlib.XSetForeground(display, gc, (0x30 + 0x25 * i) << 16 | (0xf0 - 0x20 * i) << 8 | 0x80)
            xlib.XFillRectangle(display, window, gc, x, 0, max(8, width // 24), height)
        bx = int((math.sin(t * 1.7) * 0.4 + 0.5) * (width - 60))
        by = int((math.cos(t * 2.3) * 0.4 + 0.5) * (height - 60))
        xlib.XSetForeground(display, gc, 0xf0d020)
        xlib.XFillRectangle(display, window, gc, bx, by, 60, 60)
        xlib.XSetForeground(display, gc, (frame * 2654435761) & 0xffffff)
        xlib.XFillRectangle(display, window, gc, 0, height - 10, (frame * 7) % width + 1, 10)
        xlib.XSync(display, 0)
        if frame == 0:
            print("ready", flush=True)  # the first frame is on screen: callers wait for this, not a guess
        frame += 1
        time.sleep(1 / 60)


if __name__ == "__main__":
    main()

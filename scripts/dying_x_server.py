#!/usr/bin/env python3
"""An X server that dies inside XOpenDisplay: it accepts a client, answers the connection
setup with one 24-bit TrueColor screen, then closes the socket on the client's first request.

Usage: dying_x_server.py   (takes the first free display number from 400 up, with the lock file
Xvfb honours; prints "ready :N"; serves until SIGTERM)
"""
import os
import signal
import socket
import struct
import sys


def padded(length: int) -> int:
    return length + (-length % 4)


def pad(data: bytes) -> bytes:
    return data + b"\0" * (padded(len(data)) - len(data))


def setup_reply() -> bytes:
    vendor = pad(b"dying")
    formats = struct.pack("<BBB5x", 24, 32, 32)
    visual = struct.pack("<IBBHIII4x", 0x21, 4, 8, 256, 0xFF0000, 0xFF00, 0xFF)  # TrueColor
    depth = struct.pack("<BxH4x", 24, 1) + visual
    screen = struct.pack("<IIIIIHHHHHHIBBBB", 0x100, 0x20, 0xFFFFFF, 0, 0, 320, 240, 85, 64, 1, 1,
                         0x21, 0, 0, 24, 1) + depth
    body = struct.pack("<IIIIHHBBBBBBBB4x", 1, 0x200000, 0x1FFFFF, 0, 5, 65535, 1, 1, 0, 0, 32, 32, 8, 255)
    body += vendor + formats + screen
    return struct.pack("<BxHHH", 1, 11, 0, len(body) // 4) + body


def read_exact(connection: socket.socket, count: int) -> bytes:
    data = b""
    while len(data) < count:
        chunk = connection.recv(count - len(data))
        if not chunk:
            raise ConnectionError("client went away")
        data += chunk
    return data


def claim_display_number() -> tuple[int, str]:
    for number in range(400, 1000):
        lock = f"/tmp/.X{number}-lock"
        try:
            fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
        except FileExistsError:
            continue
        os.write(fd, b"%10d\n" % os.getpid())
        os.close(fd)
        return number, lock
    sys.exit("no free display number in 400..999")


def main() -> None:
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})  # a parent may hand down a blocked mask
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    number, lock = claim_display_number()
    path = f"/tmp/.X11-unix/X{number}"
    os.makedirs("/tmp/.X11-unix", mode=0o1777, exist_ok=True)
    if os.path.exists(path):
        os.unlink(path)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(8)
    print(f"ready :{number}", flush=True)
    try:
        while True:
            connection, _ = server.accept()
            try:
                prefix = read_exact(connection, 12)
                _, _, _, name_length, data_length = struct.unpack("<BxHHHH2x", prefix)
                read_exact(connection, padded(name_length) + padded(data_length))
                connection.sendall(setup_reply())
                connection.recv(4096)  # the first request (XOpenDisplay's own), then hang up
            except ConnectionError:
                pass
            connection.close()
    finally:
        os.unlink(path)
        os.unlink(lock)


if __name__ == "__main__":
    main()

#ifndef CX11SHIM_EVDEV_H
#define CX11SHIM_EVDEV_H
#include <libevdev/libevdev.h>
#include <linux/input.h>
#include <stdint.h>
// Glibc's Swift module leaves these out; the input thread's epoll loop and hotplug watch need them.
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/socket.h>

// The ioctls that describe a node libevdev cannot set up (the raw fallback of InputDevice);
// each returns what ioctl(2) returns.
/// EVIOCGVERSION: fails on anything that is not an evdev node.
int CX11Shim_evdev_version(int fd, int *version);
/// EVIOCGID.
int CX11Shim_evdev_id(int fd, struct input_id *id);
/// EVIOCGNAME(length) into buffer.
int CX11Shim_evdev_name(int fd, char *buffer, int length);
/// EVIOCGBIT(type, length) into buffer (type 0: the event types).
int CX11Shim_evdev_bits(int fd, int type, uint8_t *buffer, int length);
/// EVIOCSCLOCKID: switches the fd's event timestamps to clockid.
int CX11Shim_evdev_set_clock(int fd, int clockid);
#endif

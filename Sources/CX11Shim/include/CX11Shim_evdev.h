#ifndef CX11SHIM_EVDEV_H
#define CX11SHIM_EVDEV_H
#include <libevdev/libevdev.h>
#include <linux/input.h>
#include <stdint.h>
// Glibc's Swift module leaves these out; the input thread's epoll loop and hotplug watch need them.
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/socket.h>

/// EVIOCSCLOCKID: switches the fd's event timestamps to clockid (CLOCK_MONOTONIC).
int CX11Shim_EVIOCSCLOCKID(int fd, int clockid);
#endif

#ifndef CX11SHIM_EVDEV_H
#define CX11SHIM_EVDEV_H
#include <libevdev/libevdev.h>
#include <linux/input.h>
#include <stdint.h>

/// EVIOCSCLOCKID: switches the fd's event timestamps to clockid (CLOCK_MONOTONIC).
int CX11Shim_EVIOCSCLOCKID(int fd, int clockid);
#endif

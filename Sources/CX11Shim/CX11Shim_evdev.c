#include "CX11Shim_evdev.h"
#include <sys/ioctl.h>

int CX11Shim_evdev_version(int fd, int *version) { return ioctl(fd, EVIOCGVERSION, version); }
int CX11Shim_evdev_id(int fd, struct input_id *id) { return ioctl(fd, EVIOCGID, id); }
int CX11Shim_evdev_name(int fd, char *buffer, int length) { return ioctl(fd, EVIOCGNAME(length), buffer); }
int CX11Shim_evdev_bits(int fd, int type, uint8_t *buffer, int length) { return ioctl(fd, EVIOCGBIT(type, length), buffer); }
int CX11Shim_evdev_set_clock(int fd, int clockid) { return ioctl(fd, EVIOCSCLOCKID, &clockid); }

#include "CX11Shim_evdev.h"
#include <sys/ioctl.h>

int CX11Shim_EVIOCSCLOCKID(int fd, int clockid) { return ioctl(fd, EVIOCSCLOCKID, &clockid); }

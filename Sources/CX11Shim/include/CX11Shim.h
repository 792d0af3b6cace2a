/// Umbrella header of the Xlib shims (Xlib, MIT-SHM, XFixes, RandR): the connection and error
/// handling and the values Swift's importer cannot reach, used through X11Support by both X11 users.
#ifndef CX11SHIM_H
#define CX11SHIM_H
#include "CX11Shim_x11.h"
#include "CX11Shim_x11_state.h"
#endif

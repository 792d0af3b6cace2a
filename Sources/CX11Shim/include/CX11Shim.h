/// Umbrella header of the Xlib shims (Xlib, MIT-SHM, XFixes, RandR): the connection and error
/// handling both X11 users share, and the state sampler's MIT-SHM region grab.
#ifndef CX11SHIM_H
#define CX11SHIM_H
#include "CX11Shim_x11.h"
#include "CX11Shim_x11_state.h"
#endif

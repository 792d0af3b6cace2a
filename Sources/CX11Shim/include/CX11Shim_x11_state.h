#ifndef CX11SHIM_X11_STATE_H
#define CX11SHIM_X11_STATE_H
/// Xlib values Swift cannot reach through the importer (used through X11Support).
#include "CX11Shim_x11.h"

/// XID base the server gave this connection: distinct for every client connection.
unsigned long CX11Shim_state_resource_base(Display *display);
/// Xlib's PointerRoot, as a value Swift can compare with.
Window CX11Shim_state_PointerRoot(void);
#endif

#ifndef CX11SHIM_X11_STATE_H
#define CX11SHIM_X11_STATE_H
/// Shims the state sampler needs beyond CX11Shim_x11.h (owned by StateExtractor).
#include "CX11Shim_x11.h"
#endif

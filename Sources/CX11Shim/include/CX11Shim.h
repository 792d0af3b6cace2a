/// Umbrella header of the C shims: one header per C library, each used only by the module that owns it.
#ifndef CX11SHIM_H
#define CX11SHIM_H
#include "CX11Shim_sync.h"
#include "CX11Shim_x11.h"
#include "CX11Shim_x11_state.h"
#include "CX11Shim_evdev.h"
#include "CX11Shim_hdf5.h"
#include "CX11Shim_motion.h"
#include "CX11Shim_png.h"
#endif

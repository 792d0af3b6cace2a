#include "CX11Shim_x11_state.h"

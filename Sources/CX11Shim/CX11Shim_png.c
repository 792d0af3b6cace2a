#include "CX11Shim_png.h"

#ifndef CX11SHIM_PNG_H
#define CX11SHIM_PNG_H
#include <png.h>
#include <stdint.h>
#endif

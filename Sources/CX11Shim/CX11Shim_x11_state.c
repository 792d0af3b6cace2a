#include "CX11Shim_x11_state.h"

unsigned long CX11Shim_state_resource_base(Display *display) {
    // Xlib.h hides the field (private3); Xlibint.h names it, but that header clashes with Swift's importer, so
    // it stays out of the public header and this file reads it through the public layout.
    return ((_XPrivDisplay)display)->private3;
}

Window CX11Shim_state_PointerRoot(void) { return PointerRoot; }

#ifndef CX11SHIM_X11_STATE_H
#define CX11SHIM_X11_STATE_H
/// Shims the state sampler needs beyond CX11Shim_x11.h (owned by StateExtractor).
#include "CX11Shim_x11.h"

/// A ZPixmap XImage whose pixels live in a private MIT-SHM segment, sized for the largest region grabbed.
typedef struct {
    XImage *image;
    XShmSegmentInfo segment;
    int capacity_width;
    int capacity_height;
} CX11Shim_state_shm;

/// Creates the segment (IPC_PRIVATE, removed at once so it never outlives the process), attaches it to the
/// server and syncs; an X error during the attach (remote server) counts as failure. Call after CX11Shim_watch_display. Returns 0 on success; -1 when MIT-SHM is missing or any step fails (nothing is left behind).
int CX11Shim_state_shm_create(Display *display, int screen, int width, int height, CX11Shim_state_shm *shm);
/// Reads the root sub-rectangle (x, y, width, height) into the segment, packed with bytes_per_line = width * 4.
/// The rectangle must fit the capacity. Returns 1 on success, 0 on failure (X error or display lost).
int CX11Shim_state_shm_grab(Display *display, Window root, CX11Shim_state_shm *shm, int x, int y, int width, int height);
/// Detaches from the server (unless the display is lost), unmaps the segment and frees the image header.
void CX11Shim_state_shm_destroy(Display *display, CX11Shim_state_shm *shm, bool display_alive);

/// XID base the server gave this connection: distinct for every client connection.
unsigned long CX11Shim_state_resource_base(Display *display);
/// Xlib's None, PointerRoot and the RevertTo constants, as values Swift can compare with.
Window CX11Shim_state_PointerRoot(void);
#endif

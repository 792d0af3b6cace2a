#ifndef CX11SHIM_X11_H
#define CX11SHIM_X11_H
#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <X11/Xatom.h>
#include <X11/extensions/XShm.h>
#include <X11/extensions/Xfixes.h>
#include <X11/extensions/Xrandr.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <stdbool.h>
#include <stdint.h>

/// Xlib's function-like macros, as functions.
int CX11Shim_DefaultScreen(Display *display);
Window CX11Shim_RootWindow(Display *display, int screen);
Visual *CX11Shim_DefaultVisual(Display *display, int screen);
int CX11Shim_DefaultDepth(Display *display, int screen);
int CX11Shim_DisplayWidth(Display *display, int screen);
int CX11Shim_DisplayHeight(Display *display, int screen);
int CX11Shim_ConnectionNumber(Display *display);
int CX11Shim_XDestroyImage(XImage *image);
unsigned long CX11Shim_AllPlanes(void);

/// X error handling that never ends the process.
///
/// Xlib's handlers are process-wide, so one pair serves every connection: protocol errors are
/// counted per registered Display; an IO error (server gone) marks that Display lost and returns
/// instead of exiting (XSetIOErrorExitHandler), so the owning thread can end its session cleanly.

/// Installs the process-wide handlers once; safe to call from any thread, any number of times.
void CX11Shim_install_error_handlers(void);
/// Starts tracking errors of `display` (call on the thread that owns it, right after XOpenDisplay).
int CX11Shim_watch_display(Display *display);
/// Installs the handlers, opens `name` (NULL: $DISPLAY) and watches it; NULL when it cannot connect.
/// The handlers go in before XOpenDisplay because it makes round trips of its own: a server dying
/// during them returns NULL here instead of reaching Xlib's default exit handler (exit(1)).
Display *CX11Shim_open_watched_display(const char *name);
/// Stops tracking `display` (call before XCloseDisplay).
void CX11Shim_unwatch_display(Display *display);
/// True once the connection broke (the server went away).
bool CX11Shim_display_lost(Display *display);
/// Number of protocol errors seen on `display` since it was watched.
uint64_t CX11Shim_error_count(Display *display);
/// The most recent protocol error on `display`; returns 0 when there was none.
int CX11Shim_last_error(Display *display, unsigned char *error_code, unsigned char *request_code, unsigned long *resource_id);

/// Capture helpers (owned by the Capture module).

/// The class of `visual` (TrueColor, ...); Xlib names the field `class`, which Swift cannot reach cleanly.
int CX11Shim_visual_class(const Visual *visual);
/// ImageByteOrder(display): LSBFirst or MSBFirst.
int CX11Shim_ImageByteOrder(Display *display);
/// Frees an XImage header whose pixels belong to someone else (a shared-memory slot): XDestroyImage
/// would free(data), so data and obdata are cleared first.
void CX11Shim_destroy_image_header(XImage *image);
#endif

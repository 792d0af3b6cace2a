#include "CX11Shim_x11.h"

int CX11Shim_DefaultScreen(Display *display) { return DefaultScreen(display); }
Window CX11Shim_RootWindow(Display *display, int screen) { return RootWindow(display, screen); }
Visual *CX11Shim_DefaultVisual(Display *display, int screen) { return DefaultVisual(display, screen); }
int CX11Shim_DefaultDepth(Display *display, int screen) { return DefaultDepth(display, screen); }
int CX11Shim_DisplayWidth(Display *display, int screen) { return DisplayWidth(display, screen); }
int CX11Shim_DisplayHeight(Display *display, int screen) { return DisplayHeight(display, screen); }
int CX11Shim_ConnectionNumber(Display *display) { return ConnectionNumber(display); }
int CX11Shim_XDestroyImage(XImage *image) { return XDestroyImage(image); }
unsigned long CX11Shim_AllPlanes(void) { return AllPlanes; }

#include <pthread.h>
#include <setjmp.h>
#include <string.h>

#define WATCHED_DISPLAYS 32

typedef struct {
    Display *display;
    uint64_t errors;
    bool lost;
    unsigned char error_code;
    unsigned char request_code;
    unsigned long resource_id;
} watched_display;

static watched_display watched[WATCHED_DISPLAYS];
static pthread_mutex_t watched_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t handlers_once = PTHREAD_ONCE_INIT;

static watched_display *find_watched(Display *display) {
    for (int i = 0; i < WATCHED_DISPLAYS; i++) if (watched[i].display == display) return &watched[i];
    return NULL;
}

static int record_error(Display *display, XErrorEvent *event) {
    pthread_mutex_lock(&watched_lock);
    watched_display *entry = find_watched(display);
    if (entry) {
        entry->errors++;
        entry->error_code = event->error_code;
        entry->request_code = event->request_code;
        entry->resource_id = event->resourceid;
    }
    pthread_mutex_unlock(&watched_lock);
    return 0;
}

static void mark_lost(Display *display) {
    pthread_mutex_lock(&watched_lock);
    watched_display *entry = find_watched(display);
    if (entry) entry->lost = true;
    pthread_mutex_unlock(&watched_lock);
}

/// Set while this thread is inside XOpenDisplay, where no per-display exit handler exists yet.
static __thread sigjmp_buf *opening_display;

/// Xlib's default IO error handler calls exit(); this one only marks the display.
static int record_io_error(Display *display) {
    // The server died during XOpenDisplay's own round trips: Xlib would call its default exit
    // handler next, so leave the half-open Display behind (holding only its own lock) instead.
    if (opening_display != NULL) siglongjmp(*opening_display, 1);
    mark_lost(display);
    return 0;
}

/// Called after the IO error handler; returning (instead of exiting) leaves the Display flagged dead.
static void io_error_exit(Display *display, void *user_data) {
    (void)user_data;
    mark_lost(display);
}

static void install_once(void) {
    XSetErrorHandler(record_error);
    XSetIOErrorHandler(record_io_error);
}

void CX11Shim_install_error_handlers(void) { pthread_once(&handlers_once, install_once); }

int CX11Shim_watch_display(Display *display) {
    CX11Shim_install_error_handlers();
    int result = -1;
    pthread_mutex_lock(&watched_lock);
    for (int i = 0; i < WATCHED_DISPLAYS; i++) {
        if (watched[i].display == NULL) {
            memset(&watched[i], 0, sizeof(watched[i]));
            watched[i].display = display;
            result = 0;
            break;
        }
    }
    pthread_mutex_unlock(&watched_lock);
    XSetIOErrorExitHandler(display, io_error_exit, NULL);
    return result;
}

Display *CX11Shim_open_watched_display(const char *name) {
    CX11Shim_install_error_handlers();
    sigjmp_buf jump;
    if (sigsetjmp(jump, 0) != 0) {
        opening_display = NULL;
        return NULL;
    }
    opening_display = &jump;
    Display *display = XOpenDisplay(name);
    opening_display = NULL;
    if (display != NULL) CX11Shim_watch_display(display);
    return display;
}

void CX11Shim_unwatch_display(Display *display) {
    pthread_mutex_lock(&watched_lock);
    watched_display *entry = find_watched(display);
    if (entry) memset(entry, 0, sizeof(*entry));
    pthread_mutex_unlock(&watched_lock);
}

bool CX11Shim_display_lost(Display *display) {
    pthread_mutex_lock(&watched_lock);
    watched_display *entry = find_watched(display);
    bool lost = entry ? entry->lost : false;
    pthread_mutex_unlock(&watched_lock);
    return lost;
}

uint64_t CX11Shim_error_count(Display *display) {
    pthread_mutex_lock(&watched_lock);
    watched_display *entry = find_watched(display);
    uint64_t count = entry ? entry->errors : 0;
    pthread_mutex_unlock(&watched_lock);
    return count;
}

int CX11Shim_last_error(Display *display, unsigned char *error_code, unsigned char *request_code, unsigned long *resource_id) {
    int found = 0;
    pthread_mutex_lock(&watched_lock);
    watched_display *entry = find_watched(display);
    if (entry && entry->errors > 0) {
        *error_code = entry->error_code;
        *request_code = entry->request_code;
        *resource_id = entry->resource_id;
        found = 1;
    }
    pthread_mutex_unlock(&watched_lock);
    return found;
}

int CX11Shim_visual_class(const Visual *visual) { return visual->class; }
int CX11Shim_ImageByteOrder(Display *display) { return ImageByteOrder(display); }

void CX11Shim_destroy_image_header(XImage *image) {
    if (image == NULL) return;
    image->data = NULL;
    image->obdata = NULL;
    XDestroyImage(image);
}

#include "CX11Shim_x11_state.h"
#include <string.h>

int CX11Shim_state_shm_create(Display *display, int screen, int width, int height, CX11Shim_state_shm *shm) {
    memset(shm, 0, sizeof(*shm));
    shm->segment.shmid = -1;
    shm->segment.shmaddr = (char *)-1;
    if (width <= 0 || height <= 0 || !XShmQueryExtension(display)) return -1;
    XImage *image = XShmCreateImage(display, DefaultVisual(display, screen), (unsigned)DefaultDepth(display, screen),
                                    ZPixmap, NULL, &shm->segment, (unsigned)width, (unsigned)height);
    if (image == NULL) return -1;
    if (image->bits_per_pixel != 32) { XDestroyImage(image); return -1; }
    size_t size = (size_t)image->bytes_per_line * (size_t)image->height;
    int id = shmget(IPC_PRIVATE, size, IPC_CREAT | 0600);
    if (id < 0) { XDestroyImage(image); return -1; }
    void *address = shmat(id, NULL, 0);
    if (address == (void *)-1) { shmctl(id, IPC_RMID, NULL); XDestroyImage(image); return -1; }
    shm->segment.shmid = id;
    shm->segment.shmaddr = image->data = (char *)address;
    shm->segment.readOnly = False;
    // A remote server accepts the request and then fails it (BadAccess) asynchronously: count errors across the sync.
    uint64_t errors_before = CX11Shim_error_count(display);
    Status attached = XShmAttach(display, &shm->segment);
    XSync(display, False);
    if (CX11Shim_error_count(display) != errors_before) attached = False;
    // Marked for removal at once: the kernel frees it when both we and the server detach, even after a crash.
    shmctl(id, IPC_RMID, NULL);
    if (!attached) {
        shmdt(address);
        image->data = NULL;
        XDestroyImage(image);
        memset(shm, 0, sizeof(*shm));
        return -1;
    }
    shm->image = image;
    shm->capacity_width = width;
    shm->capacity_height = height;
    return 0;
}

int CX11Shim_state_shm_grab(Display *display, Window root, CX11Shim_state_shm *shm, int x, int y, int width, int height) {
    XImage *image = shm->image;
    if (image == NULL || width <= 0 || height <= 0) return 0;
    if ((long)width * height > (long)shm->capacity_width * shm->capacity_height) return 0;
    // XShmGetImage reads image->width x image->height; shrinking the header grabs a sub-rectangle into the
    // same segment, packed row after row (32 bpp, so no scanline padding beyond 4 bytes per pixel).
    image->width = width;
    image->height = height;
    image->bytes_per_line = width * 4;
    return XShmGetImage(display, root, image, x, y, AllPlanes) ? 1 : 0;
}

void CX11Shim_state_shm_destroy(Display *display, CX11Shim_state_shm *shm, bool display_alive) {
    if (shm->image == NULL) return;
    if (display_alive) {
        XShmDetach(display, &shm->segment);
        XSync(display, False);
    }
    shmdt(shm->segment.shmaddr);
    shm->image->data = NULL;
    XDestroyImage(shm->image);
    memset(shm, 0, sizeof(*shm));
}

unsigned long CX11Shim_state_resource_base(Display *display) {
    // Xlib.h hides the field (private3); Xlibint.h names it, but that header clashes with Swift's importer, so
    // it stays out of the public header and this file reads it through the public layout.
    return ((_XPrivDisplay)display)->private3;
}

Window CX11Shim_state_PointerRoot(void) { return PointerRoot; }

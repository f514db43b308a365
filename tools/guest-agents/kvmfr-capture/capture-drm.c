/*
 * DRM/KMS capture with raw ioctls (uapi headers only, no libdrm): the framebuffer on the first active CRTC
 * (GETCRTC -> GETFB2, else GETFB -> MAP_DUMB -> mmap), re-looked-up every frame so page flips and mode changes
 * are followed; and the cursor plane's framebuffer and position when the driver has one in use.
 * GETFB hands out buffer handles only to the DRM master or CAP_SYS_ADMIN: run as root. We drop the master role
 * the first open gives us, so KMS clients started later still can set modes.
 */
#define _GNU_SOURCE
#include "capture.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <drm.h>
#include <drm_fourcc.h>
#include <drm_mode.h>

#define MAX_IDS 32
/* The "type" property of a plane (the kernel's enum drm_plane_type; libdrm names it, the uapi does not). */
#define PLANE_TYPE_CURSOR 2

/* A framebuffer of someone else's, mapped for reading. */
struct mapped_fb {
    uint32_t fb_id;
    uint32_t handle;
    uint32_t width, height, pitch, offset;
    enum pixel_format format;
    uint32_t fourcc;
    uint64_t map_offset;       /* MAP_DUMB's fake offset: unique per buffer object while we hold a handle */
    uint8_t *map;
    size_t map_size;
};

struct drm_source {
    int fd;
    uint32_t crtcs[MAX_IDS];
    uint32_t crtc_count;
    struct mapped_fb primary;
    uint32_t failed_fb;        /* an fb we could not map: retried only after failed_wait more grabs */
    uint32_t failed_wait;
    /* The cursor plane, when the driver exposes one (universal planes) and CRTC_X/CRTC_Y (atomic). */
    uint32_t cursor_plane;
    uint32_t prop_crtc_x, prop_crtc_y;
    uint32_t active_crtc;
    struct mapped_fb cursor_fb;
    uint32_t cursor_serial;
    uint8_t *cursor_pixels;
};

static int xioctl(int fd, unsigned long request, void *arg)
{
    int rc;
    do {
        rc = ioctl(fd, request, arg);
    } while (rc == -1 && (errno == EINTR || errno == EAGAIN));
    return rc;
}

static void release_fb(int fd, struct mapped_fb *fb)
{
    if (fb->map != NULL) {
        munmap(fb->map, fb->map_size);
    }

    if (fb->handle != 0) {
        struct drm_gem_close close_arg = { .handle = fb->handle };
        xioctl(fd, DRM_IOCTL_GEM_CLOSE, &close_arg);
    }

    memset(fb, 0, sizeof *fb);
}

static int drm_format(uint32_t fourcc, enum pixel_format *format)
{
    switch (fourcc) {
    case DRM_FORMAT_XRGB8888:
    case DRM_FORMAT_ARGB8888: *format = PIXEL_XRGB8888; return 0;
    case DRM_FORMAT_XBGR8888:
    case DRM_FORMAT_ABGR8888: *format = PIXEL_XBGR8888; return 0;
    case DRM_FORMAT_RGB888: *format = PIXEL_RGB888; return 0;
    case DRM_FORMAT_RGB565: *format = PIXEL_RGB565; return 0;
    default: return -1;
    }
}

/* Looks fb_id up: a handle to its first plane's buffer, its geometry and format, and the buffer's mmap offset.
 * Returns 0, or -1 with a message (when loud) and nothing held. */
static int describe_fb(int fd, uint32_t fb_id, struct mapped_fb *fb, int loud)
{
    memset(fb, 0, sizeof *fb);
    uint32_t fourcc;
    struct drm_mode_fb_cmd2 fb2;
    memset(&fb2, 0, sizeof fb2);
    fb2.fb_id = fb_id;
    if (xioctl(fd, DRM_IOCTL_MODE_GETFB2, &fb2) == 0) {
        for (int i = 1; i < 4; i++) {
            if (fb2.handles[i] != 0 && fb2.handles[i] != fb2.handles[0]) {
                struct drm_gem_close close_arg = { .handle = fb2.handles[i] };
                xioctl(fd, DRM_IOCTL_GEM_CLOSE, &close_arg);
            }
        }

        fb->handle = fb2.handles[0];
        fb->width = fb2.width;
        fb->height = fb2.height;
        fb->pitch = fb2.pitches[0];
        fb->offset = fb2.offsets[0];
        fourcc = fb2.pixel_format;
        if ((fb2.flags & DRM_MODE_FB_MODIFIERS) && fb2.modifier[0] != DRM_FORMAT_MOD_LINEAR) {
            if (loud) fprintf(stderr, "kvmfr-capture: fb %u is tiled (modifier 0x%llx); only linear buffers can be read\n", fb_id,
                (unsigned long long)fb2.modifier[0]);
            release_fb(fd, fb);
            return -1;
        }
    } else {
        struct drm_mode_fb_cmd fb1;
        memset(&fb1, 0, sizeof fb1);
        fb1.fb_id = fb_id;
        if (xioctl(fd, DRM_IOCTL_MODE_GETFB, &fb1) != 0) {
            if (loud) fprintf(stderr, "kvmfr-capture: GETFB %u: %s\n", fb_id, strerror(errno));
            return -1;
        }

        fb->handle = fb1.handle;
        fb->width = fb1.width;
        fb->height = fb1.height;
        fb->pitch = fb1.pitch;
        fourcc = fb1.bpp == 32 ? DRM_FORMAT_XRGB8888 : fb1.bpp == 24 ? DRM_FORMAT_RGB888
            : fb1.bpp == 16 && fb1.depth == 16 ? DRM_FORMAT_RGB565 : 0;
    }

    fb->fb_id = fb_id;
    if (fb->handle == 0) {
        if (loud) fprintf(stderr, "kvmfr-capture: fb %u came without a buffer handle (needs root or DRM master)\n", fb_id);
        return -1;
    }

    if (drm_format(fourcc, &fb->format) != 0) {
        if (loud) fprintf(stderr, "kvmfr-capture: fb %u has format %.4s, which is not supported\n", fb_id, (const char *)&fourcc);
        release_fb(fd, fb);
        return -1;
    }

    struct drm_mode_map_dumb map;
    memset(&map, 0, sizeof map);
    map.handle = fb->handle;
    if (xioctl(fd, DRM_IOCTL_MODE_MAP_DUMB, &map) != 0) {
        if (loud) fprintf(stderr, "kvmfr-capture: MAP_DUMB of fb %u: %s\n", fb_id, strerror(errno));
        release_fb(fd, fb);
        return -1;
    }

    fb->map_offset = map.offset;
    fb->fourcc = fourcc;
    return 0;
}

/* Looks fb_id up and maps its first plane. Returns 0, or -1 with a message. */
static int map_fb(int fd, uint32_t fb_id, struct mapped_fb *fb, int verbose)
{
    if (describe_fb(fd, fb_id, fb, 1) != 0) {
        return -1;
    }

    uint32_t fourcc = fb->fourcc;
    fb->map_size = (size_t)fb->offset + (size_t)fb->pitch * fb->height;
    void *pixels = mmap(NULL, fb->map_size, PROT_READ, MAP_SHARED, fd, (off_t)fb->map_offset);
    if (pixels == MAP_FAILED) {
        fprintf(stderr, "kvmfr-capture: mmap of fb %u (%zu bytes): %s\n", fb_id, fb->map_size, strerror(errno));
        fb->map = NULL;
        release_fb(fd, fb);
        return -1;
    }

    fb->map = pixels;
    if (verbose) {
        printf("kvmfr-capture: drm fb %u %ux%u pitch %u format %.4s mapped\n", fb_id, fb->width, fb->height, fb->pitch,
            (const char *)&fourcc);
    }

    return 0;
}

/* Whether fb_id still names the buffer we mapped: ids are reused (lowest free), so a client that destroys its
 * fb and creates another may hand the same id to a different buffer or geometry. */
static int still_same(int fd, uint32_t fb_id, const struct mapped_fb *mapped)
{
    struct mapped_fb now;
    if (describe_fb(fd, fb_id, &now, 0) != 0) {
        return 0;
    }

    int same = now.map_offset == mapped->map_offset && now.width == mapped->width && now.height == mapped->height
        && now.pitch == mapped->pitch && now.offset == mapped->offset && now.fourcc == mapped->fourcc;
    release_fb(fd, &now);
    return same;
}

static int drm_grab(struct capture *capture)
{
    struct drm_source *source = capture->state;
    struct drm_mode_crtc crtc;
    int found = 0;
    for (uint32_t i = 0; i < source->crtc_count && !found; i++) {
        memset(&crtc, 0, sizeof crtc);
        crtc.crtc_id = source->crtcs[i];
        found = xioctl(source->fd, DRM_IOCTL_MODE_GETCRTC, &crtc) == 0 && crtc.mode_valid && crtc.fb_id != 0;
    }

    if (!found) {
        source->active_crtc = 0;
        return 0; /* nothing on screen: mode change or display off */
    }

    source->active_crtc = crtc.crtc_id;
    if (crtc.fb_id != source->primary.fb_id || !still_same(source->fd, crtc.fb_id, &source->primary)) {
        release_fb(source->fd, &source->primary);
        if (crtc.fb_id == source->failed_fb && source->failed_wait > 0) {
            source->failed_wait--;
            return 0;
        }

        if (map_fb(source->fd, crtc.fb_id, &source->primary, capture->verbose) != 0) {
            source->failed_fb = crtc.fb_id;
            source->failed_wait = 100; /* a few seconds at the usual caps; the id may name another fb by then */
            return 0;
        }
    }

    struct mapped_fb *fb = &source->primary;
    uint32_t width = crtc.mode.hdisplay, height = crtc.mode.vdisplay;
    size_t bpp = (size_t)capture_bytes_per_pixel(fb->format);
    if (width == 0 || height == 0 || crtc.x + width > fb->width || crtc.y + height > fb->height) {
        return 0;
    }

    if (capture_resize(capture, width, height) != 0) {
        fprintf(stderr, "kvmfr-capture: out of memory\n");
        return -1;
    }

    const uint8_t *first = fb->map + fb->offset + (size_t)crtc.y * fb->pitch + crtc.x * bpp;
    for (uint32_t y = 0; y < height; y++) {
        capture_convert_row(capture->pixels + (size_t)y * width * 4, first + (size_t)y * fb->pitch, width, fb->format);
    }

    return 1;
}

/* Reads one property value of a plane by property id. */
static int plane_property(int fd, uint32_t plane, uint32_t prop, uint64_t *value)
{
    uint32_t ids[64];
    uint64_t values[64];
    struct drm_mode_obj_get_properties props;
    memset(&props, 0, sizeof props);
    props.obj_id = plane;
    props.obj_type = DRM_MODE_OBJECT_PLANE;
    props.props_ptr = (uintptr_t)ids;
    props.prop_values_ptr = (uintptr_t)values;
    props.count_props = 64;
    if (xioctl(fd, DRM_IOCTL_MODE_OBJ_GETPROPERTIES, &props) != 0) {
        return -1;
    }

    for (uint32_t i = 0; i < props.count_props && i < 64; i++) {
        if (ids[i] == prop) {
            *value = values[i];
            return 0;
        }
    }

    return -1;
}

static int drm_cursor(struct capture *capture, struct capture_cursor *cursor)
{
    struct drm_source *source = capture->state;
    if (source->cursor_plane == 0) {
        return 0;
    }

    memset(cursor, 0, sizeof *cursor);
    struct drm_mode_get_plane plane;
    memset(&plane, 0, sizeof plane);
    plane.plane_id = source->cursor_plane;
    if (xioctl(source->fd, DRM_IOCTL_MODE_GETPLANE, &plane) != 0 || plane.fb_id == 0 || plane.crtc_id != source->active_crtc) {
        return 1; /* hidden */
    }

    uint64_t x = 0, y = 0;
    if (source->prop_crtc_x != 0) {
        plane_property(source->fd, source->cursor_plane, source->prop_crtc_x, &x);
        plane_property(source->fd, source->cursor_plane, source->prop_crtc_y, &y);
    }

    if (plane.fb_id != source->cursor_fb.fb_id || !still_same(source->fd, plane.fb_id, &source->cursor_fb)) {
        release_fb(source->fd, &source->cursor_fb);
        if (map_fb(source->fd, plane.fb_id, &source->cursor_fb, capture->verbose) != 0) {
            return 1;
        }

        struct mapped_fb *fb = &source->cursor_fb;
        uint8_t *pixels = realloc(source->cursor_pixels, (size_t)fb->width * fb->height * 4);
        if (pixels == NULL) {
            release_fb(source->fd, fb);
            return 1;
        }

        source->cursor_pixels = pixels;
        source->cursor_serial++;
    }

    /* The shape is re-read every time: a client may redraw into the same buffer. */
    struct mapped_fb *fb = &source->cursor_fb;
    size_t bpp = (size_t)capture_bytes_per_pixel(fb->format);
    for (uint32_t row = 0; row < fb->height; row++) {
        const uint8_t *src = fb->map + fb->offset + (size_t)row * fb->pitch;
        uint8_t *dst = source->cursor_pixels + (size_t)row * fb->width * 4;
        if (fb->format == PIXEL_XRGB8888 && bpp == 4) {
            memcpy(dst, src, (size_t)fb->width * 4); /* ARGB8888: keep the alpha */
        } else {
            capture_convert_row(dst, src, fb->width, fb->format);
        }
    }

    cursor->visible = 1;
    cursor->x = (int16_t)(int64_t)x;
    cursor->y = (int16_t)(int64_t)y;
    cursor->width = fb->width;
    cursor->height = fb->height;
    cursor->shape_serial = source->cursor_serial;
    cursor->bgra = source->cursor_pixels;
    return 1;
}

/* Finds a cursor-type plane and its CRTC_X/CRTC_Y property ids (needs the universal-planes cap). */
static void find_cursor_plane(struct drm_source *source)
{
    struct drm_set_client_cap cap = { .capability = DRM_CLIENT_CAP_UNIVERSAL_PLANES, .value = 1 };
    if (xioctl(source->fd, DRM_IOCTL_SET_CLIENT_CAP, &cap) != 0) {
        return;
    }

    /* Atomic exposes CRTC_X/CRTC_Y; without it the position is unknown (0, 0). */
    cap = (struct drm_set_client_cap){ .capability = DRM_CLIENT_CAP_ATOMIC, .value = 1 };
    xioctl(source->fd, DRM_IOCTL_SET_CLIENT_CAP, &cap);

    uint32_t planes[MAX_IDS];
    struct drm_mode_get_plane_res res;
    memset(&res, 0, sizeof res);
    res.plane_id_ptr = (uintptr_t)planes;
    res.count_planes = MAX_IDS;
    if (xioctl(source->fd, DRM_IOCTL_MODE_GETPLANERESOURCES, &res) != 0) {
        return;
    }

    for (uint32_t i = 0; i < res.count_planes && i < MAX_IDS && source->cursor_plane == 0; i++) {
        uint32_t ids[64];
        uint64_t values[64];
        struct drm_mode_obj_get_properties props;
        memset(&props, 0, sizeof props);
        props.obj_id = planes[i];
        props.obj_type = DRM_MODE_OBJECT_PLANE;
        props.props_ptr = (uintptr_t)ids;
        props.prop_values_ptr = (uintptr_t)values;
        props.count_props = 64;
        if (xioctl(source->fd, DRM_IOCTL_MODE_OBJ_GETPROPERTIES, &props) != 0) {
            continue;
        }

        int is_cursor = 0;
        uint32_t crtc_x = 0, crtc_y = 0;
        for (uint32_t p = 0; p < props.count_props && p < 64; p++) {
            struct drm_mode_get_property prop;
            memset(&prop, 0, sizeof prop);
            prop.prop_id = ids[p];
            if (xioctl(source->fd, DRM_IOCTL_MODE_GETPROPERTY, &prop) != 0) {
                continue;
            }

            if (strcmp(prop.name, "type") == 0 && values[p] == PLANE_TYPE_CURSOR) {
                is_cursor = 1;
            } else if (strcmp(prop.name, "CRTC_X") == 0) {
                crtc_x = ids[p];
            } else if (strcmp(prop.name, "CRTC_Y") == 0) {
                crtc_y = ids[p];
            }
        }

        if (is_cursor) {
            source->cursor_plane = planes[i];
            source->prop_crtc_x = crtc_x && crtc_y ? crtc_x : 0;
            source->prop_crtc_y = crtc_x && crtc_y ? crtc_y : 0;
        }
    }
}

static void drm_close(struct capture *capture)
{
    struct drm_source *source = capture->state;
    release_fb(source->fd, &source->primary);
    release_fb(source->fd, &source->cursor_fb);
    free(source->cursor_pixels);
    close(source->fd);
    free(source);
}

int capture_open_drm(struct capture *capture, const char *path)
{
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "kvmfr-capture: open %s: %s\n", path, strerror(errno));
        return -1;
    }

    struct drm_source *source = calloc(1, sizeof *source);
    if (source == NULL) {
        close(fd);
        return -1;
    }

    /* The first opener of a card becomes DRM master: give that up at once, or a compositor (or drm-mode)
     * started after us could not set modes. Reading framebuffers needs CAP_SYS_ADMIN, not master. */
    ioctl(fd, DRM_IOCTL_DROP_MASTER, 0);
    source->fd = fd;
    struct drm_mode_card_res res;
    memset(&res, 0, sizeof res);
    res.crtc_id_ptr = (uintptr_t)source->crtcs;
    res.count_crtcs = MAX_IDS;
    if (xioctl(fd, DRM_IOCTL_MODE_GETRESOURCES, &res) != 0 || res.count_crtcs == 0) {
        fprintf(stderr, "kvmfr-capture: %s has no KMS CRTCs (%s)\n", path, errno ? strerror(errno) : "none");
        close(fd);
        free(source);
        return -1;
    }

    source->crtc_count = res.count_crtcs < MAX_IDS ? res.count_crtcs : MAX_IDS;
    find_cursor_plane(source);
    capture->name = "drm";
    capture->state = source;
    capture->grab = drm_grab;
    capture->cursor = drm_cursor;
    capture->close = drm_close;
    return 0;
}

/*
 * drm-mode: sets a display mode from inside the Vmm test guest with raw KMS ioctls (no libdrm), so a test can
 * watch the host side follow a guest mode change.
 *
 *   drm-mode WIDTH HEIGHT [RRGGBB [SECONDS [CURSOR_X,CURSOR_Y]]]
 *
 * Opens /dev/dri/card0 (becoming DRM master), takes the first connected connector and a CRTC its encoder can
 * drive, creates a WIDTHxHEIGHT XRGB8888 dumb buffer filled with RRGGBB (default 20c060), adds it as a
 * framebuffer and sets it on the CRTC with the connector's WIDTHxHEIGHT mode (or a made-up 60 Hz one when the
 * connector lists none), marks it dirty, prints "drm-mode: set WxH colour RRGGBB", and holds the mode for
 * SECONDS (default: until killed; -1 too). With CURSOR_X,CURSOR_Y it also puts a 64x64 ARGB8888 cursor there
 * through the legacy cursor ioctl (a yellow square with a transparent centre) and prints
 * "drm-mode: cursor 64x64 at X,Y"; 8 s later it moves it by +200,+100 (a move alone, same buffer) and prints
 * "drm-mode: cursor moved to X,Y". Exit 0 after holding, 1 with a message on any failure.
 *
 * Build (static, for the initramfs): gcc -static -O2 -I/usr/include/libdrm -o drm-mode drm-mode.c
 * The headers are the kernel's DRM uapi (Debian ships them in libdrm-dev; only the headers are used).
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
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
#define MAX_MODES 256

static int fail(const char *what)
{
    fprintf(stderr, "drm-mode: %s: %s\n", what, strerror(errno));
    return 1;
}

static int xioctl(int fd, unsigned long request, void *arg)
{
    int rc;
    do {
        rc = ioctl(fd, request, arg);
    } while (rc == -1 && (errno == EINTR || errno == EAGAIN));
    return rc;
}

/* A CVT-less but valid mode: 60 Hz, small blanking, positive syncs. */
static void make_mode(struct drm_mode_modeinfo *mode, uint16_t width, uint16_t height)
{
    memset(mode, 0, sizeof *mode);
    mode->hdisplay = width;
    mode->hsync_start = width + 48;
    mode->hsync_end = width + 80;
    mode->htotal = width + 160;
    mode->vdisplay = height;
    mode->vsync_start = height + 3;
    mode->vsync_end = height + 7;
    mode->vtotal = height + 23;
    mode->vrefresh = 60;
    mode->clock = (uint32_t)((uint64_t)mode->htotal * mode->vtotal * 60 / 1000);
    mode->flags = DRM_MODE_FLAG_PHSYNC | DRM_MODE_FLAG_PVSYNC;
    mode->type = DRM_MODE_TYPE_USERDEF;
    snprintf(mode->name, sizeof mode->name, "%ux%u", width, height);
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 6) {
        fprintf(stderr, "usage: drm-mode WIDTH HEIGHT [RRGGBB [SECONDS [CURSOR_X,CURSOR_Y]]]\n");
        return 2;
    }

    uint16_t width = (uint16_t)atoi(argv[1]);
    uint16_t height = (uint16_t)atoi(argv[2]);
    uint32_t colour = argc > 3 ? (uint32_t)strtoul(argv[3], NULL, 16) : 0x20c060;
    int seconds = argc > 4 ? atoi(argv[4]) : -1;
    if (width == 0 || height == 0) {
        fprintf(stderr, "drm-mode: bad size %sx%s\n", argv[1], argv[2]);
        return 2;
    }

    int fd = open("/dev/dri/card0", O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        return fail("open /dev/dri/card0");
    }

    uint32_t crtcs[MAX_IDS], connectors[MAX_IDS];
    struct drm_mode_card_res res;
    memset(&res, 0, sizeof res);
    if (xioctl(fd, DRM_IOCTL_MODE_GETRESOURCES, &res) != 0) {
        return fail("GETRESOURCES");
    }

    if (res.count_crtcs == 0 || res.count_connectors == 0 || res.count_crtcs > MAX_IDS || res.count_connectors > MAX_IDS) {
        fprintf(stderr, "drm-mode: %u crtcs, %u connectors\n", res.count_crtcs, res.count_connectors);
        return 1;
    }

    uint32_t count_crtcs = res.count_crtcs, count_connectors = res.count_connectors;
    memset(&res, 0, sizeof res);
    res.crtc_id_ptr = (uintptr_t)crtcs;
    res.count_crtcs = count_crtcs;
    res.connector_id_ptr = (uintptr_t)connectors;
    res.count_connectors = count_connectors;
    if (xioctl(fd, DRM_IOCTL_MODE_GETRESOURCES, &res) != 0) {
        return fail("GETRESOURCES (ids)");
    }

    static struct drm_mode_modeinfo modes[MAX_MODES];
    struct drm_mode_get_connector conn;
    uint32_t connector_id = 0, mode_count = 0;
    for (uint32_t i = 0; i < count_connectors && connector_id == 0; i++) {
        memset(&conn, 0, sizeof conn);
        conn.connector_id = connectors[i];
        if (xioctl(fd, DRM_IOCTL_MODE_GETCONNECTOR, &conn) != 0) {
            return fail("GETCONNECTOR");
        }

        if (conn.connection != 1 /* connected */ || conn.encoder_id == 0) {
            continue;
        }

        mode_count = conn.count_modes < MAX_MODES ? conn.count_modes : MAX_MODES;
        uint32_t encoder = conn.encoder_id;
        memset(&conn, 0, sizeof conn);
        conn.connector_id = connectors[i];
        conn.count_modes = mode_count;
        conn.modes_ptr = (uintptr_t)modes;
        if (xioctl(fd, DRM_IOCTL_MODE_GETCONNECTOR, &conn) != 0) {
            return fail("GETCONNECTOR (modes)");
        }

        conn.encoder_id = encoder;
        connector_id = connectors[i];
    }

    if (connector_id == 0) {
        fprintf(stderr, "drm-mode: no connected connector with an encoder\n");
        return 1;
    }

    struct drm_mode_get_encoder enc;
    memset(&enc, 0, sizeof enc);
    enc.encoder_id = conn.encoder_id;
    if (xioctl(fd, DRM_IOCTL_MODE_GETENCODER, &enc) != 0) {
        return fail("GETENCODER");
    }

    uint32_t crtc_id = enc.crtc_id;
    for (uint32_t i = 0; crtc_id == 0 && i < count_crtcs; i++) {
        if (enc.possible_crtcs & (1u << i)) {
            crtc_id = crtcs[i];
        }
    }

    struct drm_mode_modeinfo mode;
    int listed = 0;
    for (uint32_t i = 0; i < mode_count && i < conn.count_modes; i++) {
        if (modes[i].hdisplay == width && modes[i].vdisplay == height) {
            mode = modes[i];
            listed = 1;
            break;
        }
    }

    if (!listed) {
        make_mode(&mode, width, height);
    }

    struct drm_mode_create_dumb dumb;
    memset(&dumb, 0, sizeof dumb);
    dumb.width = width;
    dumb.height = height;
    dumb.bpp = 32;
    if (xioctl(fd, DRM_IOCTL_MODE_CREATE_DUMB, &dumb) != 0) {
        return fail("CREATE_DUMB");
    }

    struct drm_mode_map_dumb map;
    memset(&map, 0, sizeof map);
    map.handle = dumb.handle;
    if (xioctl(fd, DRM_IOCTL_MODE_MAP_DUMB, &map) != 0) {
        return fail("MAP_DUMB");
    }

    uint8_t *pixels = mmap(NULL, dumb.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)map.offset);
    if (pixels == MAP_FAILED) {
        return fail("mmap");
    }

    for (uint32_t y = 0; y < height; y++) {
        uint32_t *row = (uint32_t *)(pixels + (size_t)y * dumb.pitch);
        for (uint32_t x = 0; x < width; x++) {
            row[x] = colour & 0xffffff; /* XRGB8888: little-endian bytes B, G, R, X */
        }
    }

    struct drm_mode_fb_cmd2 fb;
    memset(&fb, 0, sizeof fb);
    fb.width = width;
    fb.height = height;
    fb.pixel_format = DRM_FORMAT_XRGB8888;
    fb.handles[0] = dumb.handle;
    fb.pitches[0] = dumb.pitch;
    if (xioctl(fd, DRM_IOCTL_MODE_ADDFB2, &fb) != 0) {
        return fail("ADDFB2");
    }

    struct drm_mode_crtc crtc;
    memset(&crtc, 0, sizeof crtc);
    crtc.crtc_id = crtc_id;
    crtc.fb_id = fb.fb_id;
    crtc.set_connectors_ptr = (uintptr_t)&connector_id;
    crtc.count_connectors = 1;
    crtc.mode = mode;
    crtc.mode_valid = 1;
    if (xioctl(fd, DRM_IOCTL_MODE_SETCRTC, &crtc) != 0) {
        return fail("SETCRTC");
    }

    /* The whole buffer is new: say so, so a device that only copies damage copies all of it. */
    struct drm_mode_fb_dirty_cmd dirty;
    memset(&dirty, 0, sizeof dirty);
    dirty.fb_id = fb.fb_id;
    if (xioctl(fd, DRM_IOCTL_MODE_DIRTYFB, &dirty) != 0 && errno != ENOSYS) {
        return fail("DIRTYFB");
    }

    printf("drm-mode: set %ux%u colour %06x (%s mode, connector %u, crtc %u, fb %u)\n",
        width, height, colour & 0xffffff, listed ? "listed" : "made-up", connector_id, crtc_id, fb.fb_id);
    fflush(stdout);
    int cursor_x, cursor_y;
    if (argc > 5 && sscanf(argv[5], "%d,%d", &cursor_x, &cursor_y) == 2) {
        struct drm_mode_create_dumb cursor_bo;
        memset(&cursor_bo, 0, sizeof cursor_bo);
        cursor_bo.width = 64;
        cursor_bo.height = 64;
        cursor_bo.bpp = 32;
        if (xioctl(fd, DRM_IOCTL_MODE_CREATE_DUMB, &cursor_bo) != 0) {
            return fail("CREATE_DUMB (cursor)");
        }

        memset(&map, 0, sizeof map);
        map.handle = cursor_bo.handle;
        if (xioctl(fd, DRM_IOCTL_MODE_MAP_DUMB, &map) != 0) {
            return fail("MAP_DUMB (cursor)");
        }

        uint8_t *cursor_pixels = mmap(NULL, cursor_bo.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)map.offset);
        if (cursor_pixels == MAP_FAILED) {
            return fail("mmap (cursor)");
        }

        for (uint32_t y = 0; y < 64; y++) {
            uint32_t *row = (uint32_t *)(cursor_pixels + (size_t)y * cursor_bo.pitch);
            for (uint32_t x = 0; x < 64; x++) {
                int border = x < 8 || y < 8 || x >= 56 || y >= 56;
                row[x] = border ? 0xffffff00u : 0x00000000u; /* ARGB8888: opaque yellow, clear inside */
            }
        }

        struct drm_mode_cursor cursor;
        memset(&cursor, 0, sizeof cursor);
        cursor.flags = DRM_MODE_CURSOR_BO | DRM_MODE_CURSOR_MOVE;
        cursor.crtc_id = crtc_id;
        cursor.x = cursor_x;
        cursor.y = cursor_y;
        cursor.width = 64;
        cursor.height = 64;
        cursor.handle = cursor_bo.handle;
        if (xioctl(fd, DRM_IOCTL_MODE_CURSOR, &cursor) != 0) {
            return fail("CURSOR");
        }

        printf("drm-mode: cursor 64x64 at %d,%d\n", cursor_x, cursor_y);
        fflush(stdout);
        sleep(8);
        cursor.flags = DRM_MODE_CURSOR_MOVE;
        cursor.x = cursor_x + 200;
        cursor.y = cursor_y + 100;
        if (xioctl(fd, DRM_IOCTL_MODE_CURSOR, &cursor) != 0) {
            return fail("CURSOR (move)");
        }

        printf("drm-mode: cursor moved to %d,%d\n", cursor.x, cursor.y);
        fflush(stdout);
        seconds = seconds > 8 ? seconds - 8 : seconds < 0 ? seconds : 0;
    }

    if (seconds < 0) {
        for (;;) {
            pause();
        }
    }

    sleep((unsigned int)seconds);
    return 0;
}

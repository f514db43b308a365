/* Capture back-ends: the active CRTC's framebuffer through DRM/KMS, the fbdev console, or a raw BGRA file. */
#ifndef KVMFR_CAPTURE_CAPTURE_H
#define KVMFR_CAPTURE_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

/* Source pixel layouts we convert to BGRA (little-endian byte order named as in drm_fourcc.h). */
enum pixel_format {
    PIXEL_XRGB8888,            /* bytes B G R X: BGRA already */
    PIXEL_XBGR8888,            /* bytes R G B X */
    PIXEL_RGB888,              /* bytes B G R */
    PIXEL_RGB565,              /* 16-bit r5 g6 b5 */
};

struct capture_cursor {
    int visible;
    int16_t x, y;              /* top-left of the image on the screen */
    uint32_t width, height;
    uint32_t shape_serial;     /* changes whenever the shape changes */
    const uint8_t *bgra;       /* width * height * 4, with alpha */
};

struct capture {
    const char *name;          /* "drm", "fbdev" or "file" */
    uint8_t *pixels;           /* the last grabbed frame, BGRA, pitch width * 4 */
    uint32_t width, height;
    size_t capacity;
    int verbose;
    void *state;               /* the back-end's own */
    /* 1: a frame is in pixels; 0: none this time (no framebuffer, mode change in progress); -1: fatal. */
    int (*grab)(struct capture *capture);
    /* 1: cursor state filled in; 0: the source has no cursor plane. NULL when never supported. */
    int (*cursor)(struct capture *capture, struct capture_cursor *cursor);
    void (*close)(struct capture *capture);
};

/* spec: "drm", "fbdev", "file:PATH:WxH" or "auto" (drm, else fbdev). Returns 0 or -1 with a message. */
int capture_open(struct capture *capture, const char *spec, int verbose);
void capture_close(struct capture *capture);

/* Makes capture->pixels hold width x height; returns -1 when out of memory. */
int capture_resize(struct capture *capture, uint32_t width, uint32_t height);
/* Converts one row of width pixels to BGRA with alpha 0xff. */
void capture_convert_row(uint8_t *dst, const uint8_t *src, uint32_t width, enum pixel_format format);
int capture_bytes_per_pixel(enum pixel_format format);

int capture_open_drm(struct capture *capture, const char *path);
int capture_open_fbdev(struct capture *capture, const char *path);
int capture_open_file(struct capture *capture, const char *path, uint32_t width, uint32_t height);

#endif

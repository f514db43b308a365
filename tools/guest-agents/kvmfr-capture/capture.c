/* Back-end selection, pixel conversion, and the raw BGRA file source (for host-side tests). */
#define _GNU_SOURCE
#include "capture.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int capture_resize(struct capture *capture, uint32_t width, uint32_t height)
{
    size_t bytes = (size_t)width * height * 4;
    if (bytes > capture->capacity) {
        uint8_t *pixels = realloc(capture->pixels, bytes);
        if (pixels == NULL) {
            return -1;
        }

        capture->pixels = pixels;
        capture->capacity = bytes;
    }

    capture->width = width;
    capture->height = height;
    return 0;
}

int capture_bytes_per_pixel(enum pixel_format format)
{
    switch (format) {
    case PIXEL_XRGB8888:
    case PIXEL_XBGR8888: return 4;
    case PIXEL_RGB888: return 3;
    case PIXEL_RGB565: return 2;
    }
    return 4;
}

void capture_convert_row(uint8_t *dst, const uint8_t *src, uint32_t width, enum pixel_format format)
{
    uint32_t *out = (uint32_t *)dst;
    switch (format) {
    case PIXEL_XRGB8888:
        for (uint32_t x = 0; x < width; x++) {
            uint32_t v;
            memcpy(&v, src + 4 * x, 4);
            out[x] = v | 0xff000000u;
        }
        break;
    case PIXEL_XBGR8888:
        for (uint32_t x = 0; x < width; x++) {
            const uint8_t *p = src + 4 * x;
            out[x] = 0xff000000u | (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
        }
        break;
    case PIXEL_RGB888:
        for (uint32_t x = 0; x < width; x++) {
            const uint8_t *p = src + 3 * x;
            out[x] = 0xff000000u | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
        }
        break;
    case PIXEL_RGB565:
        for (uint32_t x = 0; x < width; x++) {
            uint16_t v;
            memcpy(&v, src + 2 * x, 2);
            uint32_t r = (v >> 11) & 0x1f, g = (v >> 5) & 0x3f, b = v & 0x1f;
            r = (r << 3) | (r >> 2);
            g = (g << 2) | (g >> 4);
            b = (b << 3) | (b >> 2);
            out[x] = 0xff000000u | r << 16 | g << 8 | b;
        }
        break;
    }
}

struct file_source {
    char *path;
    uint32_t width, height;
};

/* Re-reads the whole file each frame, so a test can change the picture by rewriting it. */
static int file_grab(struct capture *capture)
{
    struct file_source *source = capture->state;
    /* Test hook for mode changes: PATH.size holding "WxH" overrides the size given on the command line. */
    char size_path[600];
    snprintf(size_path, sizeof size_path, "%s.size", source->path);
    FILE *size_file = fopen(size_path, "r");
    if (size_file != NULL) {
        unsigned width, height;
        if (fscanf(size_file, "%ux%u", &width, &height) == 2 && width > 0 && height > 0 && width <= 16384 && height <= 16384) {
            source->width = width;
            source->height = height;
        }
        fclose(size_file);
    }

    if (capture_resize(capture, source->width, source->height) != 0) {
        fprintf(stderr, "kvmfr-capture: out of memory\n");
        return -1;
    }

    int fd = open(source->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return 0; /* being replaced: try again next frame */
    }

    size_t want = (size_t)source->width * source->height * 4, done = 0;
    while (done < want) {
        ssize_t n = pread(fd, capture->pixels + done, want - done, (off_t)done);
        if (n <= 0) {
            break;
        }

        done += (size_t)n;
    }

    close(fd);
    return done == want ? 1 : 0;
}

static void file_close(struct capture *capture)
{
    struct file_source *source = capture->state;
    free(source->path);
    free(source);
}

int capture_open_file(struct capture *capture, const char *path, uint32_t width, uint32_t height)
{
    struct file_source *source = calloc(1, sizeof *source);
    if (source == NULL || (source->path = strdup(path)) == NULL) {
        free(source);
        return -1;
    }

    source->width = width;
    source->height = height;
    capture->name = "file";
    capture->state = source;
    capture->grab = file_grab;
    capture->cursor = NULL;
    capture->close = file_close;
    return 0;
}

int capture_open(struct capture *capture, const char *spec, int verbose)
{
    memset(capture, 0, sizeof *capture);
    capture->verbose = verbose;
    if (strncmp(spec, "file:", 5) == 0) {
        const char *size = strrchr(spec + 5, ':');
        unsigned width = 0, height = 0;
        if (size == NULL || sscanf(size + 1, "%ux%u", &width, &height) != 2 || width == 0 || height == 0
            || width > 16384 || height > 16384) {
            fprintf(stderr, "kvmfr-capture: --source file:PATH:WxH expected, got '%s'\n", spec);
            return -1;
        }

        char *path = strndup(spec + 5, (size_t)(size - (spec + 5)));
        int rc = path == NULL ? -1 : capture_open_file(capture, path, width, height);
        free(path);
        return rc;
    }

    if (strcmp(spec, "drm") == 0) {
        return capture_open_drm(capture, "/dev/dri/card0");
    }

    if (strcmp(spec, "fbdev") == 0) {
        return capture_open_fbdev(capture, "/dev/fb0");
    }

    if (strcmp(spec, "auto") == 0) {
        if (capture_open_drm(capture, "/dev/dri/card0") == 0) {
            return 0;
        }

        fprintf(stderr, "kvmfr-capture: DRM capture unavailable, trying fbdev\n");
        return capture_open_fbdev(capture, "/dev/fb0");
    }

    fprintf(stderr, "kvmfr-capture: unknown --source '%s' (drm, fbdev, file:PATH:WxH or auto)\n", spec);
    return -1;
}

void capture_close(struct capture *capture)
{
    if (capture->close != NULL && capture->state != NULL) {
        capture->close(capture);
    }

    free(capture->pixels);
    memset(capture, 0, sizeof *capture);
}

/* fbdev capture: /dev/fb0's visible area (FBIOGET_VSCREENINFO/FSCREENINFO + mmap), re-checked every frame. */
#define _GNU_SOURCE
#include "capture.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

struct fbdev_source {
    int fd;
    uint8_t *map;
    size_t map_size;
    struct fb_var_screeninfo var;
    struct fb_fix_screeninfo fix;
    enum pixel_format format;
    int refused;               /* an unsupported format was reported once */
};

/* The layouts we know, from the channel offsets; -1 for anything else. */
static int fbdev_format(const struct fb_var_screeninfo *var, enum pixel_format *format)
{
    if (var->bits_per_pixel == 32 && var->red.offset == 16 && var->green.offset == 8 && var->blue.offset == 0) {
        *format = PIXEL_XRGB8888;
    } else if (var->bits_per_pixel == 32 && var->red.offset == 0 && var->green.offset == 8 && var->blue.offset == 16) {
        *format = PIXEL_XBGR8888;
    } else if (var->bits_per_pixel == 24 && var->red.offset == 16 && var->green.offset == 8 && var->blue.offset == 0) {
        *format = PIXEL_RGB888;
    } else if (var->bits_per_pixel == 16 && var->red.offset == 11 && var->green.offset == 5 && var->blue.offset == 0
        && var->green.length == 6) {
        *format = PIXEL_RGB565;
    } else {
        return -1;
    }

    return 0;
}

static void fbdev_unmap(struct fbdev_source *source)
{
    if (source->map != NULL) {
        munmap(source->map, source->map_size);
        source->map = NULL;
    }
}

static int fbdev_grab(struct capture *capture)
{
    struct fbdev_source *source = capture->state;
    struct fb_var_screeninfo var;
    struct fb_fix_screeninfo fix;
    if (ioctl(source->fd, FBIOGET_VSCREENINFO, &var) != 0 || ioctl(source->fd, FBIOGET_FSCREENINFO, &fix) != 0) {
        return 0;
    }

    if (source->map == NULL || fix.smem_len != source->fix.smem_len || fix.line_length != source->fix.line_length
        || var.xres != source->var.xres || var.yres != source->var.yres || var.bits_per_pixel != source->var.bits_per_pixel) {
        fbdev_unmap(source);
        enum pixel_format format;
        if (fbdev_format(&var, &format) != 0) {
            if (!source->refused) {
                fprintf(stderr, "kvmfr-capture: fbdev format %u bpp (r%u g%u b%u) is not supported; waiting for a mode change\n",
                    var.bits_per_pixel, var.red.offset, var.green.offset, var.blue.offset);
                source->refused = 1;
            }
            return 0;
        }

        size_t size = fix.smem_len;
        void *map = mmap(NULL, size, PROT_READ, MAP_SHARED, source->fd, 0);
        if (map == MAP_FAILED) {
            fprintf(stderr, "kvmfr-capture: mmap /dev/fb0 (%zu bytes): %s\n", size, strerror(errno));
            return 0;
        }

        source->map = map;
        source->map_size = size;
        source->format = format;
        source->refused = 0;
        if (capture->verbose) {
            printf("kvmfr-capture: fbdev %ux%u %u bpp, line %u bytes, %zu bytes mapped\n", var.xres, var.yres,
                var.bits_per_pixel, fix.line_length, size);
        }
    }

    source->var = var;
    source->fix = fix;
    size_t bpp = (size_t)capture_bytes_per_pixel(source->format);
    size_t first = ((size_t)var.yoffset * fix.line_length) + (size_t)var.xoffset * bpp;
    if (var.xres == 0 || var.yres == 0 || first + (size_t)(var.yres - 1) * fix.line_length + var.xres * bpp > source->map_size) {
        return 0;
    }

    if (capture_resize(capture, var.xres, var.yres) != 0) {
        fprintf(stderr, "kvmfr-capture: out of memory\n");
        return -1;
    }

    for (uint32_t y = 0; y < var.yres; y++) {
        capture_convert_row(capture->pixels + (size_t)y * var.xres * 4, source->map + first + (size_t)y * fix.line_length,
            var.xres, source->format);
    }

    return 1;
}

static void fbdev_close(struct capture *capture)
{
    struct fbdev_source *source = capture->state;
    fbdev_unmap(source);
    close(source->fd);
    free(source);
}

int capture_open_fbdev(struct capture *capture, const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "kvmfr-capture: open %s: %s\n", path, strerror(errno));
        return -1;
    }

    struct fbdev_source *source = calloc(1, sizeof *source);
    if (source == NULL) {
        close(fd);
        return -1;
    }

    source->fd = fd;
    capture->name = "fbdev";
    capture->state = source;
    capture->grab = fbdev_grab;
    capture->cursor = NULL;
    capture->close = fbdev_close;
    return 0;
}

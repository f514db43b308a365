/*
 * convert-test: the source pixel formats kvmfr-capture converts to BGRA (capture_convert_row), each checked
 * against hand-computed BGRA bytes, and damage_rects on a few tile maps. Built by run.sh with ../capture.c
 * and ../damage.c. Exit 0 when all match.
 */
#include "../capture.h"
#include "../damage.h"

#include <stdio.h>
#include <string.h>

static int failures;

static void expect_row(const char *name, const uint8_t *src, enum pixel_format format, const uint8_t *want, uint32_t width)
{
    uint8_t out[64];
    memset(out, 0xcc, sizeof out);
    capture_convert_row(out, src, width, format);
    if (memcmp(out, want, width * 4) != 0) {
        failures++;
        printf("convert-test: FAIL %s:", name);
        for (uint32_t i = 0; i < width * 4; i++) printf(" %02x", out[i]);
        printf("\n");
    } else {
        printf("convert-test: %s ok\n", name);
    }
}

static void expect_rects(const char *name, const char *tiles, uint32_t tiles_x, uint32_t tiles_y, uint32_t width,
    uint32_t height, int want_count, const struct damage_rect *want)
{
    struct damage_map map = { 0 };
    damage_resize(&map, width, height);
    damage_clear(&map);
    for (uint32_t i = 0; i < tiles_x * tiles_y; i++) map.tiles[i] = tiles[i] == '#';
    struct damage_rect rects[64];
    int count = damage_rects(&map, width, height, rects, 64);
    int ok = count == want_count && (count <= 0 || memcmp(rects, want, sizeof *rects * (size_t)count) == 0);
    printf("convert-test: %s %s (%d rects)\n", name, ok ? "ok" : "FAIL", count);
    for (int i = 0; !ok && i < count; i++) printf("  %u,%u %ux%u\n", rects[i].x, rects[i].y, rects[i].width, rects[i].height);
    failures += !ok;
    damage_free(&map);
}

int main(void)
{
    /* Pure red, pure green, pure blue, a grey with X/A byte 0x00. */
    const uint8_t xrgb[] = { 0x00, 0x00, 0xff, 0x00, 0x00, 0xff, 0x00, 0x00, 0xff, 0x00, 0x00, 0x00, 0x40, 0x80, 0xc0, 0x00 };
    const uint8_t want[] = { 0x00, 0x00, 0xff, 0xff, 0x00, 0xff, 0x00, 0xff, 0xff, 0x00, 0x00, 0xff, 0x40, 0x80, 0xc0, 0xff };
    expect_row("XRGB8888", xrgb, PIXEL_XRGB8888, want, 4);
    const uint8_t xbgr[] = { 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0x00, 0xc0, 0x80, 0x40, 0x00 };
    expect_row("XBGR8888", xbgr, PIXEL_XBGR8888, want, 4);
    const uint8_t rgb888[] = { 0x00, 0x00, 0xff, 0x00, 0xff, 0x00, 0xff, 0x00, 0x00, 0x40, 0x80, 0xc0 };
    expect_row("RGB888", rgb888, PIXEL_RGB888, want, 4);
    /* RGB565 little-endian: red f800, green 07e0, blue 001f, and 0x8410 (r 16, g 32, b 16 -> 84 82 84). */
    const uint8_t rgb565[] = { 0x00, 0xf8, 0xe0, 0x07, 0x1f, 0x00, 0x10, 0x84 };
    const uint8_t want565[] = { 0x00, 0x00, 0xff, 0xff, 0x00, 0xff, 0x00, 0xff, 0xff, 0x00, 0x00, 0xff, 0x84, 0x82, 0x84, 0xff };
    expect_row("RGB565", rgb565, PIXEL_RGB565, want565, 4);

    /* 200x150 -> 4x3 tiles, the last column 8 px and last row 22 px wide. */
    const struct damage_rect one[] = { { 0, 0, 64, 64 } };
    expect_rects("one tile", "#..." "...." "....", 4, 3, 200, 150, 1, one);
    const struct damage_rect column[] = { { 128, 0, 72, 150 } };
    expect_rects("merged down, clipped", "..##" "..##" "..##", 4, 3, 200, 150, 1, column);
    const struct damage_rect two[] = { { 0, 0, 64, 128 }, { 128, 64, 64, 86 } };
    expect_rects("two", "#..." "#.#." "..#.", 4, 3, 200, 150, 2, two);
    expect_rects("full", "####" "####" "####", 4, 3, 200, 150, 1, (const struct damage_rect[]){ { 0, 0, 200, 150 } });
    printf("convert-test: %s\n", failures ? "FAILED" : "all ok");
    return failures != 0;
}

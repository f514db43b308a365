/* Tile damage: which 64x64 tiles of a frame changed, and the damage rectangles that cover them. */
#ifndef KVMFR_CAPTURE_DAMAGE_H
#define KVMFR_CAPTURE_DAMAGE_H

#include <stdint.h>

#define DAMAGE_TILE 64u

struct damage_map {
    uint32_t tiles_x, tiles_y;
    int full;                  /* everything (or unknown) */
    uint8_t *tiles;            /* tiles_x * tiles_y flags */
};

struct damage_rect {
    uint32_t x, y, width, height;
};

/* Sizes the map for a width x height frame and marks it full. Returns -1 when out of memory. */
int damage_resize(struct damage_map *map, uint32_t width, uint32_t height);
void damage_free(struct damage_map *map);
void damage_clear(struct damage_map *map);
void damage_mark_full(struct damage_map *map);
/* map |= other (same geometry). */
void damage_merge(struct damage_map *map, const struct damage_map *other);
/* Whether any tile is marked. */
int damage_any(const struct damage_map *map);
/* Compares two BGRA frames (pitch width*4) tile by tile and marks the tiles that differ; returns the count. */
uint32_t damage_compare(struct damage_map *map, const uint8_t *current, const uint8_t *previous, uint32_t width, uint32_t height);
/* Covers the marked tiles with at most max rectangles clipped to width x height; returns the count, or -1 when
 * more would be needed (or the map is full). */
int damage_rects(const struct damage_map *map, uint32_t width, uint32_t height, struct damage_rect *rects, int max);

#endif

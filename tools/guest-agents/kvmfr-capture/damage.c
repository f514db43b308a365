/* Tile damage between two captured frames, and its rectangles. */
#include "damage.h"

#include <stdlib.h>
#include <string.h>

int damage_resize(struct damage_map *map, uint32_t width, uint32_t height)
{
    uint32_t tiles_x = (width + DAMAGE_TILE - 1) / DAMAGE_TILE;
    uint32_t tiles_y = (height + DAMAGE_TILE - 1) / DAMAGE_TILE;
    uint8_t *tiles = calloc((size_t)tiles_x * tiles_y + 1, 1);
    if (tiles == NULL) {
        return -1;
    }

    free(map->tiles);
    map->tiles = tiles;
    map->tiles_x = tiles_x;
    map->tiles_y = tiles_y;
    map->full = 1;
    return 0;
}

void damage_free(struct damage_map *map)
{
    free(map->tiles);
    memset(map, 0, sizeof *map);
}

void damage_clear(struct damage_map *map)
{
    map->full = 0;
    memset(map->tiles, 0, (size_t)map->tiles_x * map->tiles_y);
}

void damage_mark_full(struct damage_map *map)
{
    map->full = 1;
}

void damage_merge(struct damage_map *map, const struct damage_map *other)
{
    if (other->full || other->tiles_x != map->tiles_x || other->tiles_y != map->tiles_y) {
        map->full = 1;
        return;
    }

    size_t n = (size_t)map->tiles_x * map->tiles_y;
    for (size_t i = 0; i < n; i++) {
        map->tiles[i] |= other->tiles[i];
    }
}

int damage_any(const struct damage_map *map)
{
    if (map->full) {
        return 1;
    }

    size_t n = (size_t)map->tiles_x * map->tiles_y;
    for (size_t i = 0; i < n; i++) {
        if (map->tiles[i]) {
            return 1;
        }
    }

    return 0;
}

uint32_t damage_compare(struct damage_map *map, const uint8_t *current, const uint8_t *previous, uint32_t width, uint32_t height)
{
    size_t pitch = (size_t)width * 4;
    uint32_t marked = 0;
    damage_clear(map);
    for (uint32_t ty = 0; ty < map->tiles_y; ty++) {
        uint8_t *row_tiles = map->tiles + (size_t)ty * map->tiles_x;
        uint32_t y_end = (ty + 1) * DAMAGE_TILE < height ? (ty + 1) * DAMAGE_TILE : height;
        uint32_t row_marked = 0;
        for (uint32_t y = ty * DAMAGE_TILE; y < y_end && row_marked < map->tiles_x; y++) {
            const uint8_t *a = current + y * pitch;
            const uint8_t *b = previous + y * pitch;
            if (memcmp(a, b, pitch) == 0) {
                continue; /* the common case: a whole unchanged row */
            }

            for (uint32_t tx = 0; tx < map->tiles_x; tx++) {
                if (row_tiles[tx]) {
                    continue;
                }

                size_t x0 = (size_t)tx * DAMAGE_TILE * 4;
                size_t bytes = (tx + 1) * DAMAGE_TILE < width ? DAMAGE_TILE * 4 : pitch - x0;
                if (memcmp(a + x0, b + x0, bytes) != 0) {
                    row_tiles[tx] = 1;
                    row_marked++;
                }
            }
        }

        marked += row_marked;
    }

    return marked;
}

int damage_rects(const struct damage_map *map, uint32_t width, uint32_t height, struct damage_rect *rects, int max)
{
    if (map->full) {
        return -1;
    }

    int count = 0;
    for (uint32_t ty = 0; ty < map->tiles_y; ty++) {
        const uint8_t *row = map->tiles + (size_t)ty * map->tiles_x;
        uint32_t y0 = ty * DAMAGE_TILE;
        if (y0 >= height) {
            break; /* rows past a truncated frame */
        }

        uint32_t y1 = y0 + DAMAGE_TILE < height ? y0 + DAMAGE_TILE : height;
        for (uint32_t tx = 0; tx < map->tiles_x;) {
            if (!row[tx]) {
                tx++;
                continue;
            }

            uint32_t run = tx;
            while (run < map->tiles_x && row[run]) {
                run++;
            }

            uint32_t x0 = tx * DAMAGE_TILE;
            uint32_t x1 = run * DAMAGE_TILE < width ? run * DAMAGE_TILE : width;
            /* A rect that ends where this tile row starts with the same columns grows down by one row. */
            int grown = 0;
            for (int i = 0; i < count && !grown; i++) {
                if (rects[i].x == x0 && rects[i].width == x1 - x0 && rects[i].y + rects[i].height == y0) {
                    rects[i].height += y1 - y0;
                    grown = 1;
                }
            }

            if (!grown) {
                if (count == max) {
                    return -1;
                }

                rects[count++] = (struct damage_rect){ x0, y0, x1 - x0, y1 - y0 };
            }

            tx = run;
        }
    }

    return count;
}

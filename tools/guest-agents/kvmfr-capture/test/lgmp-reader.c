/*
 * lgmp-reader: a host-side LGMP v6 client and KVMFR v20 reader for testing kvmfr-capture (brief section 2.6).
 * It reads the shared memory by raw byte offsets of its own (not kvmfr-capture's headers), so a layout mistake
 * on one side does not hide behind the same mistake on the other.
 *
 *   lgmp-reader --shm FILE [--timeout S] [--frames N] [--save OUT.ppm] [--expect RAW:WxH]
 *               [--drive RAW:WxH] [--measure S] [--expect-fill WxH:RRGGBB] [--expect-cursor X,Y,W,H]
 *               [--expect-cursor-move X,Y] [--quiet]
 *
 * Session init (magic, version 6, heartbeat moving within 200 ms, KVMFR magic/version 20 and records),
 * subscribes to the frame (2) and pointer (1) queues, reads every frame while its wp advances, checks that
 * applying only the damage rects to the previous picture gives the full picture, and MessageDone's each message.
 *   --frames N      stop after N new frames (default 1 unless another mode is given)
 *   --expect F      stop with success once a frame equals the raw BGRA file F (WxH)
 *   --drive F       scripted test: writes pictures into F (the producer's --source file) and checks each
 *                   arrives, with partial damage where a little changed, and that no frame comes without change
 *   --measure S     count frames for S seconds and print frames/s
 *   --save OUT.ppm  write the last frame as a binary PPM
 *   --expect-fill WxH:RRGGBB    wait for a frame of that size in one colour (drm-mode's picture)
 *   --expect-cursor X,Y,W,H     wait for a visible WxH cursor shape at X,Y (drm-mode's cursor)
 *   --expect-cursor-move X,Y    then wait for a position-only message moving it to X,Y
 * Exit 0 on success, 1 on any check failing (with a message), 2 on bad usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* LGMP v6 header (brief section 2.3/2.4), offsets in bytes. */
enum {
    H_MAGIC = 0, H_VERSION = 4, H_SESSION = 8, H_TIMESTAMP = 16, H_NUM_QUEUES = 24, H_QUEUES = 32,
    H_QUEUE_STRIDE = 1144, H_UDATA_SIZE = 5752, H_UDATA = 5756,
    Q_ID = 0, Q_NUM_MESSAGES = 4, Q_NEW_SUB_COUNT = 8, Q_MAX_TIME = 12, Q_POSITION = 16, Q_MESSAGES_OFFSET = 20,
    Q_TIMEOUT = 24, Q_CLIENT_ID = 280, Q_LOCK = 408, Q_SUBS = 416, Q_START = 424, Q_MSG_TIMEOUT = 432, Q_COUNT = 440,
    M_UDATA = 0, M_SIZE = 4, M_OFFSET = 8, M_PENDING = 12, M_STRIDE = 16,
    /* KVMFR v20 */
    K_MAGIC = 0, K_VERSION = 8, K_HOSTVER = 12, K_FEATURES = 44, K_SIZE = 48,
    F_FORMAT_VER = 0, F_SERIAL = 4, F_TYPE = 8, F_SCREEN_W = 12, F_SCREEN_H = 16, F_DATA_W = 20, F_DATA_H = 24,
    F_FRAME_W = 28, F_FRAME_H = 32, F_ROTATION = 36, F_STRIDE = 40, F_PITCH = 44, F_OFFSET = 48, F_DAMAGE_COUNT = 52,
    F_DAMAGE = 56, F_FLAGS = 1080, F_SIZE = 1084,
    C_X = 0, C_Y = 2, C_TYPE = 4, C_WIDTH = 12, C_HEIGHT = 16, C_PITCH = 20, C_SIZE = 24,
};
#define LGMP_MAGIC 0x504d474cu
#define CURSOR_VISIBLE 0x2u
#define CURSOR_SHAPE 0x4u

static uint8_t *base;
static size_t shm_size;
static int quiet;

static void fail(const char *format, ...) __attribute__((format(printf, 1, 2), noreturn));
static void fail(const char *format, ...)
{
    va_list args;
    va_start(args, format);
    fprintf(stderr, "lgmp-reader: FAIL: ");
    vfprintf(stderr, format, args);
    fprintf(stderr, "\n");
    va_end(args);
    exit(1);
}

static uint32_t rd32(size_t off)
{
    if (off + 4 > shm_size) fail("read of u32 at %zu is outside the %zu-byte shm", off, shm_size);
    return __atomic_load_n((uint32_t *)(base + off), __ATOMIC_ACQUIRE);
}

static uint64_t rd64(size_t off)
{
    if (off + 8 > shm_size) fail("read of u64 at %zu is outside the shm", off);
    return __atomic_load_n((uint64_t *)(base + off), __ATOMIC_ACQUIRE);
}

static void wr32(size_t off, uint32_t v) { __atomic_store_n((uint32_t *)(base + off), v, __ATOMIC_RELEASE); }
static void wr64(size_t off, uint64_t v) { __atomic_store_n((uint64_t *)(base + off), v, __ATOMIC_RELEASE); }

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static void sleep_us(long us)
{
    struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };
    nanosleep(&ts, NULL);
}

static void lock(size_t off)
{
    uint32_t expected;
    do {
        expected = 0;
    } while (!__atomic_compare_exchange_n((uint32_t *)(base + off), &expected, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED));
}

static int try_lock(size_t off)
{
    uint32_t expected = 0;
    return __atomic_compare_exchange_n((uint32_t *)(base + off), &expected, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

static void unlock(size_t off) { wr32(off, 0); }

struct sub {
    size_t q;                  /* queue offset */
    uint32_t id, bit, pos, num;
    double last_heartbeat;
};

static uint32_t session_id;
static uint64_t last_timestamp;
static double last_beat, max_beat_gap;

/* The heartbeat and the session must stay: the host restarting or stalling over 1 s fails the test. */
static void check_session(void)
{
    if (rd32(H_SESSION) != session_id) fail("session id changed (%08x -> %08x): the host restarted", session_id, rd32(H_SESSION));
    uint64_t ts = rd64(H_TIMESTAMP);
    double now = now_ms();
    if (ts != last_timestamp) {
        if (last_beat > 0 && now - last_beat > max_beat_gap) max_beat_gap = now - last_beat;
        last_timestamp = ts;
        last_beat = now;
    } else if (now - last_beat > 1000) {
        fail("heartbeat stopped: timestamp %llu unchanged for %.0f ms", (unsigned long long)ts, now - last_beat);
    }
}

static void session_init(double deadline)
{
    for (;;) {
        uint64_t before = rd64(H_TIMESTAMP);
        sleep_us(200000);
        if (now_ms() > deadline) fail("no live LGMP host in the shm (magic %08x version %u)", rd32(H_MAGIC), rd32(H_VERSION));
        if (rd32(H_MAGIC) != LGMP_MAGIC || rd32(H_VERSION) != 6 || rd64(H_TIMESTAMP) == before) continue;
        session_id = rd32(H_SESSION);
        last_timestamp = rd64(H_TIMESTAMP);
        last_beat = now_ms();
        break;
    }

    uint32_t udata_size = rd32(H_UDATA_SIZE);
    const uint8_t *u = base + H_UDATA;
    if (udata_size < K_SIZE || memcmp(u + K_MAGIC, "KVMFR---", 8) != 0) fail("no KVMFR header in udata (%u bytes)", udata_size);
    uint32_t version, features;
    memcpy(&version, u + K_VERSION, 4);
    memcpy(&features, u + K_FEATURES, 4);
    if (version != 20) fail("KVMFR version %u, expected 20", version);
    char hostver[33] = "";
    memcpy(hostver, u + K_HOSTVER, 32);
    if (!quiet) printf("lgmp-reader: session %08x, KVMFR %u, host '%s', features %u, udata %u bytes\n", session_id, version, hostver, features, udata_size);
    int saw_vm = 0, saw_os = 0;
    for (uint32_t at = K_SIZE; at + 8 <= udata_size;) {
        uint8_t type = u[at];
        uint32_t size;
        memcpy(&size, u + at + 4, 4);
        if (at + 8 + size > udata_size) fail("record at %u overruns udata", at);
        const uint8_t *data = u + at + 8;
        if (type == 1 && size >= 52) {
            saw_vm = 1;
            if (!quiet) printf("lgmp-reader: VMINFO capture '%.32s' cpus %u model '%s'\n", (const char *)data + 16, data[48], (const char *)data + 51);
        } else if (type == 2 && size >= 2) {
            saw_os = 1;
            if (!quiet) printf("lgmp-reader: OSINFO os %u '%s'\n", data[0], (const char *)data + 1);
            if (data[0] != 0) fail("OS %u, expected Linux (0)", data[0]);
        }
        at += 8 + size;
    }

    if (strcmp(hostver, "vmm-kvmfr-capture") != 0 || features != 0 || !saw_vm || !saw_os) fail("unexpected KVMFR header");
}

static size_t find_queue(uint32_t queue_id, double deadline)
{
    for (;;) {
        uint32_t n = rd32(H_NUM_QUEUES);
        for (uint32_t i = 0; i < n && i < 5; i++) {
            size_t q = H_QUEUES + (size_t)H_QUEUE_STRIDE * i;
            if (rd32(q + Q_ID) == queue_id) return q;
        }
        if (now_ms() > deadline) fail("no queue %u", queue_id);
        sleep_us(1000);
    }
}

static void subscribe(struct sub *s, uint32_t queue_id, double deadline)
{
    s->q = find_queue(queue_id, deadline);
    s->num = rd32(s->q + Q_NUM_MESSAGES);
    lock(s->q + Q_LOCK);
    uint64_t subs = rd64(s->q + Q_SUBS);
    uint64_t ts = rd64(H_TIMESTAMP);
    for (uint32_t id = 0; id < 32; id++) {
        uint32_t bit = 1u << id;
        if (((uint32_t)subs & bit) && rd64(s->q + Q_TIMEOUT + 8 * id) < ts) {
            subs &= ~((uint64_t)bit | ((uint64_t)bit << 32));
            wr64(s->q + Q_TIMEOUT + 8 * id, 0);
            wr32(s->q + Q_CLIENT_ID + 4 * id, 0);
        }
    }

    uint32_t used = (uint32_t)(subs >> 32) | (uint32_t)subs;
    if (used == 0xffffffffu) fail("queue %u has no free subscriber slot", queue_id);
    s->id = (uint32_t)__builtin_ctz(~used);
    s->bit = 1u << s->id;
    wr64(s->q + Q_TIMEOUT + 8 * s->id, 0);
    wr32(s->q + Q_CLIENT_ID + 4 * s->id, (uint32_t)getpid());
    wr64(s->q + Q_SUBS, subs | ((uint64_t)s->bit << 32));
    __atomic_fetch_add((uint32_t *)(base + s->q + Q_NEW_SUB_COUNT), 1, __ATOMIC_ACQ_REL);
    s->pos = rd32(s->q + Q_POSITION);
    unlock(s->q + Q_LOCK);
}

/* Returns the message offset in the ring, or 0 when empty. */
static size_t next_message(struct sub *s)
{
    uint64_t subs = rd64(s->q + Q_SUBS);
    if ((uint32_t)subs & s->bit) fail("queue %u timed us out (BAD): a message was held over %u ms", rd32(s->q + Q_ID), rd32(s->q + Q_MAX_TIME));
    if (!((subs >> 32) & s->bit)) fail("queue %u unsubscribed us", rd32(s->q + Q_ID));
    if (rd32(s->q + Q_POSITION) == s->pos) return 0;
    return rd32(s->q + Q_MESSAGES_OFFSET) + (size_t)M_STRIDE * s->pos;
}

static void message_done(struct sub *s, size_t m)
{
    uint32_t left = __atomic_and_fetch((uint32_t *)(base + m + M_PENDING), ~s->bit, __ATOMIC_ACQ_REL);
    if (left == 0 && try_lock(s->q + Q_LOCK)) {
        if (rd32(s->q + Q_START) == s->pos) {
            wr32(s->q + Q_START, (s->pos + 1) % s->num);
            __atomic_fetch_sub((uint32_t *)(base + s->q + Q_COUNT), 1, __ATOMIC_ACQ_REL);
            wr64(s->q + Q_MSG_TIMEOUT, rd64(H_TIMESTAMP) + rd32(s->q + Q_MAX_TIME));
        }
        unlock(s->q + Q_LOCK);
    }

    s->pos = (s->pos + 1) % s->num;
}

static void unsubscribe(struct sub *s)
{
    lock(s->q + Q_LOCK);
    uint64_t subs = rd64(s->q + Q_SUBS);
    wr64(s->q + Q_SUBS, subs & ~((uint64_t)s->bit << 32 | s->bit));
    wr64(s->q + Q_TIMEOUT + 8 * s->id, 0);
    wr32(s->q + Q_CLIENT_ID + 4 * s->id, 0);
    unlock(s->q + Q_LOCK);
}

struct picture {
    uint32_t width, height, rows, flags, format_ver, serial, damage_count; /* rows < height: truncated */
    uint8_t *full;             /* the whole frame read from shm */
    uint8_t *rebuilt;          /* the previous picture with only the damage rects copied in */
    int have;
};

/* Spins until the frame's wp reaches bytes (the producer streams after posting). */
static void wait_wp(size_t fb, uint32_t bytes)
{
    double deadline = now_ms() + 2000;
    while (rd32(fb) < bytes) {
        if (now_ms() > deadline) fail("wp stuck at %u < %u", rd32(fb), bytes);
        sleep_us(10);
    }
}

static unsigned long frames_seen, reposts_seen, partial_frames;

/* Reads one frame message; returns 1 for a new frame, 0 for a repeat (same serial). */
static int read_frame(size_t m, struct picture *pic)
{
    size_t frame = rd32(m + M_OFFSET);
    uint32_t size = rd32(m + M_SIZE);
    if (frame + F_SIZE > shm_size || frame + size > shm_size) fail("frame at %zu size %u outside shm", frame, size);
    uint32_t serial = rd32(frame + F_SERIAL), format_ver = rd32(frame + F_FORMAT_VER);
    if (pic->have && serial == pic->serial) {
        reposts_seen++;
        return 0;
    }

    uint32_t type = rd32(frame + F_TYPE), w = rd32(frame + F_FRAME_W), h = rd32(frame + F_FRAME_H);
    uint32_t data_h = rd32(frame + F_DATA_H), pitch = rd32(frame + F_PITCH), stride = rd32(frame + F_STRIDE);
    uint32_t offset = rd32(frame + F_OFFSET), count = rd32(frame + F_DAMAGE_COUNT), flags = rd32(frame + F_FLAGS);
    /* A frame larger than the buffer comes truncated: fewer data rows, with FRAME_FLAG_TRUNCATED. */
    int rows_ok = data_h == h ? !(flags & 0x4u) : (flags & 0x4u) && data_h > 0 && data_h < h;
    uint32_t rows = data_h;
    if (type != 1 || pitch != w * 4 || stride != w || rd32(frame + F_DATA_W) != w || !rows_ok || rd32(frame + F_SCREEN_W) != w
        || rd32(frame + F_SCREEN_H) != h || rd32(frame + F_ROTATION) != 0 || count > 64)
        fail("frame %u: odd header type %u %ux%u data %ux%u stride %u pitch %u damage %u", serial, type, w, h, rd32(frame + F_DATA_W), data_h, stride, pitch, count);
    if (offset != 4092 || ((frame + offset + 4) & 4095) != 0) fail("frame %u: pixels not page aligned (offset %u)", serial, offset);
    size_t fb = frame + offset, data = fb + 4;
    if (data + (size_t)pitch * rows > frame + size) fail("frame %u: %ux%u does not fit its %u-byte buffer", serial, w, h, size);

    int reformat = !pic->have || format_ver != pic->format_ver || w != pic->width || h != pic->height;
    if (reformat) {
        if (pic->have && format_ver == pic->format_ver) fail("geometry changed to %ux%u without a new formatVer", w, h);
        free(pic->full);
        free(pic->rebuilt);
        pic->full = calloc(h, pitch);
        pic->rebuilt = calloc(h, pitch);
        if (pic->full == NULL || pic->rebuilt == NULL) fail("out of memory");
    }

    /* The rebuilt picture first, rect by rect, waiting on wp for each rect's last row as the client does. */
    if (reformat || count == 0) {
        for (uint32_t done = 0; done < pitch * rows;) {
            uint32_t step = pitch * rows - done < (1u << 20) ? pitch * rows - done : (1u << 20);
            wait_wp(fb, done + step);
            memcpy(pic->rebuilt + done, base + data + done, step);
            done += step;
        }
    } else {
        for (uint32_t i = 0; i < count; i++) {
            uint32_t r[4];
            memcpy(r, base + frame + F_DAMAGE + 16 * i, 16);
            if (r[2] == 0 || r[3] == 0 || r[0] + r[2] > w || r[1] + r[3] > rows) fail("frame %u: damage rect %u,%u %ux%u outside %ux%u", serial, r[0], r[1], r[2], r[3], w, rows);
            wait_wp(fb, (r[1] + r[3]) * pitch);
            for (uint32_t y = r[1]; y < r[1] + r[3]; y++)
                memcpy(pic->rebuilt + (size_t)y * pitch + r[0] * 4, base + data + (size_t)y * pitch + r[0] * 4, (size_t)r[2] * 4);
        }
        partial_frames++;
    }

    wait_wp(fb, pitch * rows);
    memcpy(pic->full, base + data, (size_t)pitch * rows);
    if (memcmp(pic->full, pic->rebuilt, (size_t)pitch * rows) != 0) {
        fail("frame %u: the previous picture plus its %u damage rect(s) differs from the full frame", serial, count);
    }

    pic->have = 1;
    pic->width = w;
    pic->height = h;
    pic->rows = rows;
    pic->flags = flags;
    pic->format_ver = format_ver;
    pic->serial = serial;
    pic->damage_count = count;
    frames_seen++;
    if (!quiet) printf("lgmp-reader: frame %u %ux%u format %u damage %u%s\n", serial, w, h, format_ver, count, count ? "" : " (full)");
    if (rows < h) printf("lgmp-reader: frame %u truncated to %u of %u rows (FRAME_FLAG_TRUNCATED)\n", serial, rows, h);
    return 1;
}

static unsigned long cursor_messages, cursor_hidden_messages;
/* The last cursor shape seen: position, size and two sample pixels (top-left and centre, BGRA as u32). */
static struct {
    int seen, visible, moved;  /* moved: a position-only message (no SHAPE) came after the shape */
    int16_t x, y;
    uint32_t width, height, corner, centre;
} last_shape;

static void read_cursor(size_t m)
{
    uint32_t flags = rd32(m + M_UDATA);
    size_t c = rd32(m + M_OFFSET);
    if (c + C_SIZE > shm_size) fail("cursor outside shm");
    cursor_messages++;
    if (!(flags & CURSOR_VISIBLE)) cursor_hidden_messages++;
    if (flags & CURSOR_SHAPE) {
        uint32_t w = rd32(c + C_WIDTH), h = rd32(c + C_HEIGHT), pitch = rd32(c + C_PITCH);
        if (w == 0 || h == 0 || pitch < w * 4 || c + C_SIZE + (size_t)pitch * h > shm_size) fail("bad cursor shape %ux%u pitch %u", w, h, pitch);
        last_shape.seen = 1;
        last_shape.width = w;
        last_shape.height = h;
        memcpy(&last_shape.corner, base + c + C_SIZE, 4);
        memcpy(&last_shape.centre, base + c + C_SIZE + (size_t)(h / 2) * pitch + (w / 2) * 4, 4);
    }
    if (flags & 0x1u) {
        memcpy(&last_shape.x, base + c + C_X, 2);
        memcpy(&last_shape.y, base + c + C_Y, 2);
    }
    last_shape.moved = (flags & 0x1u) && !(flags & CURSOR_SHAPE);
    last_shape.visible = (flags & CURSOR_VISIBLE) != 0;
    if (!quiet) {
        int16_t x, y;
        memcpy(&x, base + c + C_X, 2);
        memcpy(&y, base + c + C_Y, 2);
        printf("lgmp-reader: cursor flags %x at %d,%d%s\n", flags, x, y, flags & CURSOR_VISIBLE ? "" : " (hidden)");
    }
}

struct reader {
    struct sub frames, pointer;
    struct picture pic;
};

/* Handles every waiting message; returns the number of new frames. */
static int poll_once(struct reader *r)
{
    int fresh = 0;
    size_t m;
    check_session();
    while ((m = next_message(&r->pointer)) != 0) {
        read_cursor(m);
        message_done(&r->pointer, m);
    }
    while ((m = next_message(&r->frames)) != 0) {
        fresh += read_frame(m, &r->pic);
        message_done(&r->frames, m);
    }
    return fresh;
}

static uint8_t *load_raw(const char *spec, uint32_t *w, uint32_t *h, char *path, size_t path_size)
{
    const char *colon = strrchr(spec, ':');
    if (colon == NULL || sscanf(colon + 1, "%ux%u", w, h) != 2) fail("expected PATH:WxH, got %s", spec);
    snprintf(path, path_size, "%.*s", (int)(colon - spec), spec);
    size_t bytes = (size_t)*w * *h * 4;
    uint8_t *pixels = calloc(1, bytes);
    FILE *file = fopen(path, "rb");
    if (pixels == NULL) fail("out of memory");
    if (file != NULL) {
        if (fread(pixels, 1, bytes, file) != bytes) { /* a missing or short file reads as zeros */ }
        fclose(file);
    }
    return pixels;
}

static void save_raw(const char *path, const uint8_t *pixels, size_t bytes)
{
    char tmp[600];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *file = fopen(tmp, "wb");
    if (file == NULL || fwrite(pixels, 1, bytes, file) != bytes || fclose(file) != 0) fail("cannot write %s", tmp);
    if (rename(tmp, path) != 0) fail("rename %s: %s", tmp, strerror(errno)); /* atomic: the producer never reads half */
}

static void save_ppm(const char *path, const struct picture *pic)
{
    FILE *file = fopen(path, "wb");
    if (file == NULL) fail("cannot write %s", path);
    fprintf(file, "P6\n%u %u\n255\n", pic->width, pic->height);
    for (size_t i = 0; i < (size_t)pic->width * pic->height; i++) {
        const uint8_t *p = pic->full + 4 * i;
        uint8_t rgb[3] = { p[2], p[1], p[0] };
        fwrite(rgb, 1, 3, file);
    }
    fclose(file);
    if (!quiet) printf("lgmp-reader: saved %ux%u frame %u to %s\n", pic->width, pic->height, pic->serial, path);
}

/* Waits up to ms for a new frame that equals want; fails otherwise. */
static void expect_picture(struct reader *r, const uint8_t *want, uint32_t w, uint32_t h, double ms, const char *what)
{
    double deadline = now_ms() + ms;
    for (;;) {
        poll_once(r);
        if (r->pic.have && r->pic.width == w && r->pic.height == h && memcmp(r->pic.full, want, (size_t)w * r->pic.rows * 4) == 0) return;
        if (now_ms() > deadline) fail("%s: no frame equal to the source within %.0f ms (last %ux%u serial %u)", what, ms, r->pic.width, r->pic.height, r->pic.serial);
        sleep_us(500);
    }
}

/* Waits for a WxH frame of one colour (RRGGBB), as drm-mode draws. */
static void expect_fill(struct reader *r, const char *spec, double deadline)
{
    uint32_t w, h, rgb;
    if (sscanf(spec, "%ux%u:%x", &w, &h, &rgb) != 3) fail("--expect-fill WxH:RRGGBB, got %s", spec);
    for (;;) {
        poll_once(r);
        if (r->pic.have && r->pic.width == w && r->pic.height == h) {
            size_t same = 0, n = (size_t)w * h;
            for (size_t i = 0; i < n; i++) {
                uint32_t v;
                memcpy(&v, r->pic.full + 4 * i, 4);
                same += (v & 0xffffffu) == rgb;
            }
            if (same == n) break;
        }
        if (now_ms() > deadline) fail("no %ux%u frame filled with %06x (last %ux%u)", w, h, rgb, r->pic.width, r->pic.height);
        sleep_us(1000);
    }
    printf("lgmp-reader: %ux%u frame of colour %06x arrived (frame %u, formatVer %u)\n", w, h, rgb, r->pic.serial, r->pic.format_ver);
}

/* Waits for a visible cursor shape of WxH at X,Y whose corner is opaque yellow and centre clear (drm-mode's). */
static void expect_cursor(struct reader *r, const char *spec, double deadline)
{
    int x, y;
    uint32_t w, h;
    if (sscanf(spec, "%d,%d,%u,%u", &x, &y, &w, &h) != 4) fail("--expect-cursor X,Y,W,H, got %s", spec);
    while (!(last_shape.seen && last_shape.visible && last_shape.x == x && last_shape.y == y && last_shape.width == w && last_shape.height == h)) {
        poll_once(r);
        if (now_ms() > deadline) fail("no visible %ux%u cursor at %d,%d (last: seen %d visible %d %ux%u at %d,%d)", w, h, x, y,
            last_shape.seen, last_shape.visible, last_shape.width, last_shape.height, last_shape.x, last_shape.y);
        sleep_us(1000);
    }
    if (last_shape.corner != 0xffffff00u || (last_shape.centre >> 24) != 0) fail("cursor pixels: corner %08x centre %08x", last_shape.corner, last_shape.centre);
    printf("lgmp-reader: cursor %ux%u at %d,%d, corner %08x, centre alpha 0\n", w, h, x, y, last_shape.corner);
}

/* Waits for a position-only pointer message (no SHAPE) that puts the visible cursor at X,Y. */
static void expect_cursor_move(struct reader *r, const char *spec, double deadline)
{
    int x, y;
    if (sscanf(spec, "%d,%d", &x, &y) != 2) fail("--expect-cursor-move X,Y, got %s", spec);
    while (!(last_shape.moved && last_shape.visible && last_shape.x == x && last_shape.y == y)) {
        poll_once(r);
        if (now_ms() > deadline) fail("no position-only cursor message to %d,%d (last %d,%d moved %d)", x, y, last_shape.x, last_shape.y, last_shape.moved);
        sleep_us(1000);
    }
    printf("lgmp-reader: cursor moved to %d,%d by a position-only message\n", x, y);
}

static void fill_rect(uint8_t *pixels, uint32_t w, uint32_t x0, uint32_t y0, uint32_t rw, uint32_t rh, uint32_t seed)
{
    for (uint32_t y = y0; y < y0 + rh; y++)
        for (uint32_t x = x0; x < x0 + rw; x++) {
            uint32_t v = (x * 7 + y * 13 + seed * 101) ^ (seed << 8);
            uint8_t *p = pixels + ((size_t)y * w + x) * 4;
            p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 3); p[2] = (uint8_t)(v >> 6) ^ (uint8_t)seed; p[3] = 0xff;
        }
}

static void drive(struct reader *r, const char *spec)
{
    uint32_t w, h;
    char path[512];
    uint8_t *pixels = load_raw(spec, &w, &h, path, sizeof path);
    size_t bytes = (size_t)w * h * 4;
    if (w < 640 || h < 320) fail("--drive needs at least 640x320 to exceed 64 tiles");

    /* 1. A fresh full picture. */
    fill_rect(pixels, w, 0, 0, w, h, 1);
    save_raw(path, pixels, bytes);
    expect_picture(r, pixels, w, h, 5000, "full picture");
    printf("lgmp-reader: drive 1 ok: full picture arrived (frame %u)\n", r->pic.serial);

    /* 2. A small change in the last, partial tile row and column: partial damage expected. */
    fill_rect(pixels, w, w - 7, h - 5, 7, 5, 2);
    save_raw(path, pixels, bytes);
    expect_picture(r, pixels, w, h, 3000, "small change");
    if (r->pic.damage_count == 0) fail("small change came as full damage");
    printf("lgmp-reader: drive 2 ok: small change, %u damage rect(s)\n", r->pic.damage_count);

    /* 3. Two far-apart changes, twice in a row (so both shm buffers must catch up on older damage). */
    fill_rect(pixels, w, 3, 3, 30, 40, 3);
    fill_rect(pixels, w, w / 2, h / 2, 100, 70, 3);
    save_raw(path, pixels, bytes);
    expect_picture(r, pixels, w, h, 3000, "two changes");
    uint32_t rects = r->pic.damage_count;
    fill_rect(pixels, w, 200, 10, 64, 64, 4);
    save_raw(path, pixels, bytes);
    expect_picture(r, pixels, w, h, 3000, "third change");
    if (rects < 2 || r->pic.damage_count == 0) fail("expected partial damage, got %u then %u rects", rects, r->pic.damage_count);
    printf("lgmp-reader: drive 3 ok: two changes (%u rects), then one more (%u rects)\n", rects, r->pic.damage_count);

    /* 4. Nothing changes: no frame for 600 ms while the heartbeat goes on. */
    unsigned long before = frames_seen;
    double end = now_ms() + 600;
    while (now_ms() < end) { poll_once(r); sleep_us(1000); }
    if (frames_seen != before) fail("%lu frame(s) posted without any change", frames_seen - before);
    printf("lgmp-reader: drive 4 ok: no frame without a change, heartbeat max gap %.0f ms\n", max_beat_gap);

    /* 5. A checkerboard of changed tiles: more than 64 rects, so full damage (0). */
    for (uint32_t ty = 0; ty * 64 < h; ty++)
        for (uint32_t tx = (ty & 1); tx * 64 < w; tx += 2)
            fill_rect(pixels, w, tx * 64, ty * 64, 1, 1, 5);
    save_raw(path, pixels, bytes);
    expect_picture(r, pixels, w, h, 3000, "checkerboard");
    if (r->pic.damage_count != 0) fail("checkerboard of changes gave %u rects, expected 0 (full)", r->pic.damage_count);
    printf("lgmp-reader: drive 5 ok: many changed tiles -> full damage\n");

    /* 6. Several quick whole-picture changes: every one arrives complete, in order. */
    for (uint32_t i = 0; i < 4; i++) {
        fill_rect(pixels, w, 0, 0, w, h, 10 + i);
        save_raw(path, pixels, bytes);
        expect_picture(r, pixels, w, h, 3000, "quick change");
    }
    printf("lgmp-reader: drive 6 ok: 4 whole-picture changes\n");

    /* 7. Mode change (the file source's PATH.size hook) to 640x400 and back: new formatVer, full frames. */
    char size_path[600];
    snprintf(size_path, sizeof size_path, "%s.size", path);
    uint32_t sizes[2][2] = { { 640, 400 }, { w, h } };
    for (int i = 0; i < 2; i++) {
        uint32_t mw = sizes[i][0], mh = sizes[i][1];
        uint8_t *mode = calloc((size_t)mw * mh, 4);
        if (mode == NULL) fail("out of memory");
        fill_rect(mode, mw, 0, 0, mw, mh, 20 + (uint32_t)i);
        uint32_t format_before = r->pic.format_ver;
        save_raw(path, mode, (size_t)mw * mh * 4);
        char text[32];
        int length = snprintf(text, sizeof text, "%ux%u\n", mw, mh);
        save_raw(size_path, (const uint8_t *)text, (size_t)length);
        expect_picture(r, mode, mw, mh, 5000, "mode change");
        if (r->pic.format_ver == format_before) fail("mode change to %ux%u kept formatVer %u", mw, mh, format_before);
        printf("lgmp-reader: drive 7 ok: mode %ux%u, formatVer %u -> %u\n", mw, mh, format_before, r->pic.format_ver);
        if (i == 1) memcpy(pixels, mode, bytes);
        free(mode);
    }
    unlink(size_path);
    free(pixels);
}

int main(int argc, char **argv)
{
    const char *shm = NULL, *save = NULL, *expect = NULL, *drive_spec = NULL, *fill = NULL, *cursor = NULL, *move = NULL;
    double timeout = 20, measure = 0;
    long frames = -1;
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(argv[i], "--quiet") == 0) { quiet = 1; continue; }
        if (v == NULL) { fprintf(stderr, "lgmp-reader: %s needs a value\n", argv[i]); return 2; }
        if (strcmp(argv[i], "--shm") == 0) shm = v;
        else if (strcmp(argv[i], "--timeout") == 0) timeout = atof(v);
        else if (strcmp(argv[i], "--frames") == 0) frames = atol(v);
        else if (strcmp(argv[i], "--save") == 0) save = v;
        else if (strcmp(argv[i], "--expect") == 0) expect = v;
        else if (strcmp(argv[i], "--drive") == 0) drive_spec = v;
        else if (strcmp(argv[i], "--measure") == 0) measure = atof(v);
        else if (strcmp(argv[i], "--expect-fill") == 0) fill = v;
        else if (strcmp(argv[i], "--expect-cursor") == 0) cursor = v;
        else if (strcmp(argv[i], "--expect-cursor-move") == 0) move = v;
        else { fprintf(stderr, "lgmp-reader: unknown option %s\n", argv[i]); return 2; }
        i++;
    }
    if (shm == NULL) { fprintf(stderr, "usage: lgmp-reader --shm FILE [--timeout S] [--frames N] [--save OUT.ppm] [--expect RAW:WxH] [--drive RAW:WxH] [--measure S] [--quiet]\n"); return 2; }
    if (frames < 0) frames = expect || drive_spec || fill || cursor || move || measure > 0 ? 0 : 1;

    double deadline = now_ms() + timeout * 1000;
    int fd = -1;
    while ((fd = open(shm, O_RDWR)) < 0) {
        if (now_ms() > deadline) fail("open %s: %s", shm, strerror(errno));
        sleep_us(100000);
    }
    struct stat st;
    while (fstat(fd, &st) == 0 && (size_t)st.st_size < 8192) {
        if (now_ms() > deadline) fail("%s stays smaller than an LGMP header", shm);
        sleep_us(100000);
    }
    shm_size = (size_t)st.st_size;
    base = mmap(NULL, shm_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (base == MAP_FAILED) fail("mmap %s: %s", shm, strerror(errno));

    static struct reader r;
    session_init(deadline);
    subscribe(&r.frames, 2, deadline);
    subscribe(&r.pointer, 1, deadline);
    if (rd32(r.frames.q + Q_NUM_MESSAGES) != 3 || rd32(r.pointer.q + Q_NUM_MESSAGES) != 21 || rd32(r.frames.q + Q_MAX_TIME) != 1000)
        fail("queue shapes: frame %u slots, pointer %u slots, maxTime %u", rd32(r.frames.q + Q_NUM_MESSAGES), rd32(r.pointer.q + Q_NUM_MESSAGES), rd32(r.frames.q + Q_MAX_TIME));
    if (!quiet) printf("lgmp-reader: subscribed as frame sub %u, pointer sub %u\n", r.frames.id, r.pointer.id);

    if (fill != NULL) expect_fill(&r, fill, deadline);
    if (cursor != NULL) expect_cursor(&r, cursor, deadline);
    if (move != NULL) expect_cursor_move(&r, move, deadline);
    if (drive_spec != NULL) {
        drive(&r, drive_spec);
    } else if (expect != NULL) {
        uint32_t w, h;
        char path[512];
        uint8_t *want = load_raw(expect, &w, &h, path, sizeof path);
        expect_picture(&r, want, w, h, deadline - now_ms(), "expect");
        printf("lgmp-reader: expected picture arrived (frame %u)\n", r.pic.serial);
    } else if (measure > 0) {
        while (!r.pic.have) {
            poll_once(&r);
            if (now_ms() > deadline) fail("no frame within %.0f s", timeout);
            sleep_us(500);
        }
        unsigned long start_frames = frames_seen;
        double start = now_ms(), end = start + measure * 1000;
        while (now_ms() < end) { poll_once(&r); sleep_us(500); }
        printf("lgmp-reader: %lu frames in %.1f s = %.2f frames/s (%lu with partial damage), heartbeat max gap %.0f ms\n",
            frames_seen - start_frames, (now_ms() - start) / 1000, (frames_seen - start_frames) * 1000.0 / (now_ms() - start),
            partial_frames, max_beat_gap);
    }

    unsigned long target = frames_seen + (unsigned long)frames;
    while (frames_seen < target) {
        poll_once(&r);
        if (now_ms() > deadline) fail("%lu of %ld frames within %.0f s", frames_seen - (target - (unsigned long)frames), frames, timeout);
        sleep_us(500);
    }

    /* The cursor: right after subscribing, a re-post tells the state (hidden when there is no cursor plane). */
    double cursor_deadline = now_ms() + 1000;
    while (cursor_messages == 0 && now_ms() < cursor_deadline) { poll_once(&r); sleep_us(1000); }
    if (cursor_messages == 0) fail("no pointer message after subscribing");
    if (save != NULL && r.pic.have) save_ppm(save, &r.pic);
    unsubscribe(&r.frames);
    unsubscribe(&r.pointer);
    printf("lgmp-reader: ok: %lu frame(s) (%lu repeats dropped), %lu cursor message(s) (%lu hidden), heartbeat max gap %.0f ms\n",
        frames_seen, reposts_seen, cursor_messages, cursor_hidden_messages, max_beat_gap);
    return 0;
}

/*
 * KVMFR version 20 (Looking Glass B7) on top of LGMP: the header udata, the frame and cursor payloads, declared
 * once by field with every offset and size asserted (brief sections 3.1-3.6), and our frame/cursor producer.
 */
#ifndef KVMFR_CAPTURE_KVMFR_H
#define KVMFR_CAPTURE_KVMFR_H

#include "lgmp.h"
#include "damage.h"

#include <stddef.h>
#include <stdint.h>

#define KVMFR_MAGIC "KVMFR---" /* 8 bytes, no NUL on the wire */
#define KVMFR_VERSION 20u
#define KVMFR_MAX_DAMAGE_RECTS 64
#define KVMFR_RECORD_VMINFO 1
#define KVMFR_RECORD_OSINFO 2
#define KVMFR_OS_LINUX 0
#define KVMFR_FRAME_TYPE_BGRA 1u
#define KVMFR_FRAME_FLAG_TRUNCATED 0x4u
#define KVMFR_CURSOR_TYPE_COLOR 0u
#define KVMFR_CURSOR_FLAG_POSITION 0x1u
#define KVMFR_CURSOR_FLAG_VISIBLE 0x2u
#define KVMFR_CURSOR_FLAG_SHAPE 0x4u

#define LGMP_Q_POINTER 1u
#define LGMP_Q_FRAME 2u
#define LGMP_Q_FRAME_LEN 2u
#define LGMP_Q_POINTER_LEN 20u
#define KVMFR_SUB_TIMEOUT_MS 1000u
#define KVMFR_POINTER_POSITION_BUFFERS 20
#define KVMFR_POINTER_SHAPE_BUFFERS 3
#define KVMFR_MAX_POINTER_SIZE 512u
#define KVMFR_PAGE 4096u
/* Bytes from a frame allocation to its FrameBuffer (wp); the pixels follow wp on the next page. */
#define KVMFR_FRAME_BUFFER_OFFSET (KVMFR_PAGE - 4u)

/* The header udata: this struct, then records. */
struct kvmfr_header {
    char magic[8];
    uint32_t version;
    char hostver[32];
    uint32_t features;
};

/* A record header; records are packed back to back, unaligned. */
struct kvmfr_record {
    uint8_t type;
    uint8_t padding[3];
    uint32_t size;
};

struct kvmfr_record_vminfo {
    uint8_t uuid[16];
    char capture[32];
    uint8_t cpus;
    uint8_t cores;
    uint8_t sockets;
    char model[];
};

struct kvmfr_record_osinfo {
    uint8_t os;
    char name[];
};

struct kvmfr_damage_rect {
    uint32_t x;
    uint32_t y;
    uint32_t width;
    uint32_t height;
};

/* The payload of a frame-queue message. */
struct kvmfr_frame {
    uint32_t format_ver;
    uint32_t frame_serial;
    uint32_t type;
    uint32_t screen_width;
    uint32_t screen_height;
    uint32_t data_width;
    uint32_t data_height;
    uint32_t frame_width;
    uint32_t frame_height;
    uint32_t rotation;
    uint32_t stride;           /* pixels */
    uint32_t pitch;            /* bytes */
    uint32_t offset;           /* from this struct to its FrameBuffer */
    uint32_t damage_rects_count;
    struct kvmfr_damage_rect damage_rects[KVMFR_MAX_DAMAGE_RECTS];
    uint32_t flags;
};

/* FrameBuffer: a write pointer (bytes of pixels ready), then the pixels. */
struct kvmfr_framebuffer {
    _Atomic uint32_t wp;
    uint8_t data[];
};

/* The payload of a pointer-queue message; with the SHAPE flag the shape pixels follow it. */
struct kvmfr_cursor {
    int16_t x;                 /* top-left of the cursor image */
    int16_t y;
    uint32_t type;
    int8_t hx;
    int8_t hy;
    uint8_t padding[2];
    uint32_t width;
    uint32_t height;
    uint32_t pitch;
};

_Static_assert(offsetof(struct kvmfr_header, magic) == 0, "KVMFR.magic");
_Static_assert(offsetof(struct kvmfr_header, version) == 8, "KVMFR.version");
_Static_assert(offsetof(struct kvmfr_header, hostver) == 12, "KVMFR.hostver");
_Static_assert(offsetof(struct kvmfr_header, features) == 44, "KVMFR.features");
_Static_assert(sizeof(struct kvmfr_header) == 48, "KVMFR is 48 bytes");
_Static_assert(offsetof(struct kvmfr_record, type) == 0, "KVMFRRecord.type");
_Static_assert(offsetof(struct kvmfr_record, size) == 4, "KVMFRRecord.size");
_Static_assert(sizeof(struct kvmfr_record) == 8, "KVMFRRecord is 8 bytes");
_Static_assert(offsetof(struct kvmfr_record_vminfo, uuid) == 0, "VMInfo.uuid");
_Static_assert(offsetof(struct kvmfr_record_vminfo, capture) == 16, "VMInfo.capture");
_Static_assert(offsetof(struct kvmfr_record_vminfo, cpus) == 48, "VMInfo.cpus");
_Static_assert(offsetof(struct kvmfr_record_vminfo, cores) == 49, "VMInfo.cores");
_Static_assert(offsetof(struct kvmfr_record_vminfo, sockets) == 50, "VMInfo.sockets");
_Static_assert(offsetof(struct kvmfr_record_vminfo, model) == 51, "VMInfo.model");
_Static_assert(sizeof(struct kvmfr_record_vminfo) == 51, "VMInfo is 51 bytes + model");
_Static_assert(offsetof(struct kvmfr_record_osinfo, name) == 1, "OSInfo.name");
_Static_assert(sizeof(struct kvmfr_damage_rect) == 16, "FrameDamageRect is 16 bytes");
_Static_assert(offsetof(struct kvmfr_frame, format_ver) == 0, "formatVer");
_Static_assert(offsetof(struct kvmfr_frame, frame_serial) == 4, "frameSerial");
_Static_assert(offsetof(struct kvmfr_frame, type) == 8, "type");
_Static_assert(offsetof(struct kvmfr_frame, screen_width) == 12, "screenWidth");
_Static_assert(offsetof(struct kvmfr_frame, screen_height) == 16, "screenHeight");
_Static_assert(offsetof(struct kvmfr_frame, data_width) == 20, "dataWidth");
_Static_assert(offsetof(struct kvmfr_frame, data_height) == 24, "dataHeight");
_Static_assert(offsetof(struct kvmfr_frame, frame_width) == 28, "frameWidth");
_Static_assert(offsetof(struct kvmfr_frame, frame_height) == 32, "frameHeight");
_Static_assert(offsetof(struct kvmfr_frame, rotation) == 36, "rotation");
_Static_assert(offsetof(struct kvmfr_frame, stride) == 40, "stride");
_Static_assert(offsetof(struct kvmfr_frame, pitch) == 44, "pitch");
_Static_assert(offsetof(struct kvmfr_frame, offset) == 48, "offset");
_Static_assert(offsetof(struct kvmfr_frame, damage_rects_count) == 52, "damageRectsCount");
_Static_assert(offsetof(struct kvmfr_frame, damage_rects) == 56, "damageRects[64]");
_Static_assert(offsetof(struct kvmfr_frame, flags) == 1080, "flags");
_Static_assert(sizeof(struct kvmfr_frame) == 1084, "KVMFRFrame is 1084 bytes");
_Static_assert(offsetof(struct kvmfr_framebuffer, data) == 4, "FrameBuffer.data");
_Static_assert(offsetof(struct kvmfr_cursor, x) == 0, "KVMFRCursor.x");
_Static_assert(offsetof(struct kvmfr_cursor, y) == 2, "KVMFRCursor.y");
_Static_assert(offsetof(struct kvmfr_cursor, type) == 4, "KVMFRCursor.type");
_Static_assert(offsetof(struct kvmfr_cursor, hx) == 8, "KVMFRCursor.hx");
_Static_assert(offsetof(struct kvmfr_cursor, hy) == 9, "KVMFRCursor.hy");
_Static_assert(offsetof(struct kvmfr_cursor, width) == 12, "KVMFRCursor.width");
_Static_assert(offsetof(struct kvmfr_cursor, height) == 16, "KVMFRCursor.height");
_Static_assert(offsetof(struct kvmfr_cursor, pitch) == 20, "KVMFRCursor.pitch");
_Static_assert(sizeof(struct kvmfr_cursor) == 24, "KVMFRCursor is 24 bytes");

/* A captured frame in local memory: BGRA, pitch = width * 4. */
struct kvmfr_image {
    uint32_t width;
    uint32_t height;
    const uint8_t *pixels;
};

/* Who we say we are in the header udata, and how long subscribers may hold a message. */
struct kvmfr_identity {
    const char *capture;       /* capture backend name */
    uint32_t sub_timeout_ms;   /* the queues' maxTime; 0: KVMFR_SUB_TIMEOUT_MS as Looking Glass */
};

struct kvmfr_producer {
    struct lgmp_host host;
    struct lgmp_host_queue *frame_queue;
    struct lgmp_host_queue *pointer_queue;
    struct lgmp_mem frames[2];
    uint32_t max_frame_size;
    struct lgmp_mem position_buffers[KVMFR_POINTER_POSITION_BUFFERS];
    struct lgmp_mem shape_buffers[KVMFR_POINTER_SHAPE_BUFFERS];
    int next_position;
    int next_shape;

    uint32_t format_ver;
    uint32_t frame_serial;
    uint32_t width, height;    /* geometry of the last frame written */
    int next_buffer;
    int last_buffer;           /* -1 until a frame was written */
    /* Per shm buffer: tiles changed since that buffer was last written; full[] when unknown or all. */
    struct damage_map pending_damage[2];

    int cursor_known;          /* a cursor state was set */
    int cursor_visible;
    int16_t cursor_x, cursor_y;
    int cursor_shape;          /* index of the shape buffer with the current shape, -1 for none */
};

/* Builds the udata, initialises LGMP on the memory and lays out queues and buffers (brief section 2.2). */
int kvmfr_producer_init(struct kvmfr_producer *producer, void *base, uint32_t size, const struct kvmfr_identity *identity);
void kvmfr_producer_free(struct kvmfr_producer *producer);
/* Whether buffer next may be written: fewer than LGMP_Q_FRAME_LEN frames outstanding. */
int kvmfr_frame_slot_free(const struct kvmfr_producer *producer);
/* Writes image into the next shm buffer and posts it. changed: tiles that differ from the previous frame
 * (NULL: all). Returns 1 posted, 0 written but nobody listens, -1 on error (message printed). */
int kvmfr_post_frame(struct kvmfr_producer *producer, const struct kvmfr_image *image, const struct damage_map *changed,
    int verbose);
/* Re-posts the last frame (same serial) for new subscribers; 0 when there is none or no room yet. */
int kvmfr_repost_frame(struct kvmfr_producer *producer);
/* Cursor: a shape (BGRA with alpha, pitch width*4) with its position, a move, or hidden. */
int kvmfr_post_cursor_shape(struct kvmfr_producer *producer, const uint8_t *bgra, uint32_t width, uint32_t height,
    int16_t x, int16_t y, int8_t hot_x, int8_t hot_y);
int kvmfr_post_cursor_move(struct kvmfr_producer *producer, int16_t x, int16_t y, int visible);
int kvmfr_post_cursor_hidden(struct kvmfr_producer *producer);
/* Posts the current cursor state again, for new pointer subscribers. */
int kvmfr_repost_cursor(struct kvmfr_producer *producer);

#endif

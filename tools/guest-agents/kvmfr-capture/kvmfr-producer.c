/* The KVMFR producer: header udata, buffer layout, frames with streamed pixels and damage, and the cursor. */
#define _GNU_SOURCE
#include "kvmfr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#define HOST_VERSION "vmm-kvmfr-capture"
#define COPY_CHUNK (1u << 20) /* wp is published every 1 MiB of a full copy */
#define UDATA_MAX 1024

static void read_line_value(const char *path, const char *key, char *out, size_t size)
{
    FILE *file = fopen(path, "r");
    if (file == NULL) {
        return;
    }

    char line[512];
    size_t key_length = strlen(key);
    while (fgets(line, sizeof line, file) != NULL) {
        if (strncmp(line, key, key_length) != 0) {
            continue;
        }

        char *value = line + key_length;
        while (*value == ' ' || *value == '\t' || *value == ':' || *value == '=' || *value == '"') {
            value++;
        }

        value[strcspn(value, "\"\n")] = '\0';
        snprintf(out, size, "%s", value);
        break;
    }

    fclose(file);
}

/* The product UUID from DMI when the firmware gives one (the client only uses it for a warning). */
static void read_uuid(uint8_t uuid[16])
{
    char text[64] = "";
    FILE *file = fopen("/sys/class/dmi/id/product_uuid", "r");
    if (file == NULL) {
        return;
    }

    if (fgets(text, sizeof text, file) != NULL) {
        int n = 0;
        for (const char *p = text; *p != '\0' && n < 32; p++) {
            unsigned v;
            if (*p >= '0' && *p <= '9') v = (unsigned)(*p - '0');
            else if (*p >= 'a' && *p <= 'f') v = (unsigned)(*p - 'a' + 10);
            else if (*p >= 'A' && *p <= 'F') v = (unsigned)(*p - 'A' + 10);
            else continue;
            uuid[n / 2] = (uint8_t)(uuid[n / 2] << 4 | v);
            n++;
        }
    }

    fclose(file);
}

/* KVMFR header + VMINFO + OSINFO records, unaligned and packed. Returns the size. */
static uint32_t build_udata(uint8_t *out, const struct kvmfr_identity *identity)
{
    memset(out, 0, UDATA_MAX);
    struct kvmfr_header header;
    memset(&header, 0, sizeof header);
    memcpy(header.magic, KVMFR_MAGIC, sizeof header.magic);
    header.version = KVMFR_VERSION;
    snprintf(header.hostver, sizeof header.hostver, "%s", HOST_VERSION);
    header.features = 0; /* no SETCURSORPOS: the client would wait for acks of cursor moves */
    memcpy(out, &header, sizeof header);
    uint32_t used = sizeof header;

    char model[128] = "unknown";
    read_line_value("/proc/cpuinfo", "model name", model, sizeof model);
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    uint8_t vminfo[sizeof(struct kvmfr_record_vminfo) + sizeof model];
    struct kvmfr_record_vminfo *vm = (struct kvmfr_record_vminfo *)vminfo;
    memset(vminfo, 0, sizeof vminfo);
    read_uuid(vm->uuid);
    snprintf(vm->capture, sizeof vm->capture, "%s", identity->capture);
    vm->cpus = (uint8_t)(cpus > 0 && cpus < 255 ? cpus : 1);
    vm->cores = vm->cpus;
    vm->sockets = 1;
    memcpy(vm->model, model, strlen(model) + 1);
    struct kvmfr_record record = { .type = KVMFR_RECORD_VMINFO,
        .size = (uint32_t)(sizeof(struct kvmfr_record_vminfo) + strlen(model) + 1) };
    memcpy(out + used, &record, sizeof record);
    memcpy(out + used + sizeof record, vminfo, record.size);
    used += (uint32_t)sizeof record + record.size;

    char name[160] = "";
    read_line_value("/etc/os-release", "PRETTY_NAME", name, sizeof name);
    if (name[0] == '\0') {
        struct utsname uts;
        if (uname(&uts) == 0) {
            snprintf(name, sizeof name, "%.32s %.64s", uts.sysname, uts.release);
        } else {
            snprintf(name, sizeof name, "Linux");
        }
    }

    record = (struct kvmfr_record){ .type = KVMFR_RECORD_OSINFO, .size = (uint32_t)(1 + strlen(name) + 1) };
    memcpy(out + used, &record, sizeof record);
    out[used + sizeof record] = KVMFR_OS_LINUX;
    memcpy(out + used + sizeof record + 1, name, strlen(name) + 1);
    used += (uint32_t)sizeof record + record.size;
    return used;
}

static int check(enum lgmp_status status, const char *what)
{
    if (status != LGMP_OK) {
        fprintf(stderr, "kvmfr-capture: %s: %s\n", what, lgmp_status_text(status));
        return -1;
    }

    return 0;
}

int kvmfr_producer_init(struct kvmfr_producer *producer, void *base, uint32_t size, const struct kvmfr_identity *identity)
{
    struct damage_map keep[2] = { producer->pending_damage[0], producer->pending_damage[1] };
    memset(producer, 0, sizeof *producer);
    producer->pending_damage[0] = keep[0];
    producer->pending_damage[1] = keep[1];
    producer->last_buffer = -1;
    producer->cursor_shape = -1;

    static uint8_t udata[UDATA_MAX];
    uint32_t udata_size = build_udata(udata, identity);
    struct lgmp_host *host = &producer->host;
    uint32_t timeout = identity->sub_timeout_ms != 0 ? identity->sub_timeout_ms : KVMFR_SUB_TIMEOUT_MS;
    if (check(lgmp_host_init(host, base, size, udata, udata_size), "LGMP init") != 0
        || check(lgmp_host_queue_new(host, LGMP_Q_FRAME, LGMP_Q_FRAME_LEN, timeout, &producer->frame_queue), "frame queue") != 0
        || check(lgmp_host_queue_new(host, LGMP_Q_POINTER, LGMP_Q_POINTER_LEN, timeout, &producer->pointer_queue), "pointer queue") != 0) {
        return -1;
    }

    for (int i = 0; i < KVMFR_POINTER_POSITION_BUFFERS; i++) {
        if (check(lgmp_host_alloc(host, sizeof(struct kvmfr_cursor), 4, &producer->position_buffers[i]), "pointer buffers") != 0) {
            return -1;
        }
    }

    uint32_t shape_size = (uint32_t)sizeof(struct kvmfr_cursor) + KVMFR_MAX_POINTER_SIZE * KVMFR_MAX_POINTER_SIZE * 4;
    for (int i = 0; i < KVMFR_POINTER_SHAPE_BUFFERS; i++) {
        if (check(lgmp_host_alloc(host, shape_size, 4, &producer->shape_buffers[i]), "pointer shape buffers") != 0) {
            return -1;
        }
    }

    /* Two page-aligned frame buffers share what is left (brief section 2.2). */
    uint32_t available = lgmp_host_free_bytes(host);
    if (available < 2 * KVMFR_PAGE + 4095) {
        fprintf(stderr, "kvmfr-capture: shared memory too small for frames (%u bytes left)\n", available);
        return -1;
    }

    producer->max_frame_size = ((available - 4095) & ~4095u) / 2;
    producer->max_frame_size &= ~4095u;
    for (int i = 0; i < 2; i++) {
        if (check(lgmp_host_alloc(host, producer->max_frame_size, KVMFR_PAGE, &producer->frames[i]), "frame buffers") != 0) {
            return -1;
        }

        struct kvmfr_frame *frame = lgmp_host_ptr(host, producer->frames[i]);
        memset(frame, 0, sizeof *frame);
        frame->offset = KVMFR_FRAME_BUFFER_OFFSET;
    }

    return 0;
}

void kvmfr_producer_free(struct kvmfr_producer *producer)
{
    damage_free(&producer->pending_damage[0]);
    damage_free(&producer->pending_damage[1]);
}

int kvmfr_frame_slot_free(const struct kvmfr_producer *producer)
{
    return lgmp_host_pending(producer->frame_queue) < LGMP_Q_FRAME_LEN;
}

static struct kvmfr_framebuffer *frame_buffer(struct kvmfr_producer *producer, int index)
{
    return (struct kvmfr_framebuffer *)((uint8_t *)lgmp_host_ptr(&producer->host, producer->frames[index]) + KVMFR_FRAME_BUFFER_OFFSET);
}

static void publish(struct kvmfr_framebuffer *fb, uint32_t bytes)
{
    atomic_store_explicit(&fb->wp, bytes, memory_order_release);
}

/* Copies the rows [0, rows) in 1 MiB steps, publishing each. */
static void copy_full(struct kvmfr_framebuffer *fb, const uint8_t *pixels, uint32_t bytes)
{
    for (uint32_t done = 0; done < bytes;) {
        uint32_t step = bytes - done < COPY_CHUNK ? bytes - done : COPY_CHUNK;
        memcpy(fb->data + done, pixels + done, step);
        done += step;
        publish(fb, done);
    }
}

/* Copies the marked tiles band by band, publishing the end of each band. */
static void copy_tiles(struct kvmfr_framebuffer *fb, const uint8_t *pixels, const struct damage_map *tiles,
    uint32_t width, uint32_t rows)
{
    size_t pitch = (size_t)width * 4;
    for (uint32_t ty = 0; ty < tiles->tiles_y; ty++) {
        uint32_t y0 = ty * DAMAGE_TILE;
        if (y0 >= rows) {
            break;
        }

        uint32_t y1 = y0 + DAMAGE_TILE < rows ? y0 + DAMAGE_TILE : rows;
        const uint8_t *row = tiles->tiles + (size_t)ty * tiles->tiles_x;
        for (uint32_t tx = 0; tx < tiles->tiles_x;) {
            if (!row[tx]) {
                tx++;
                continue;
            }

            uint32_t run = tx;
            while (run < tiles->tiles_x && row[run]) {
                run++;
            }

            size_t x0 = (size_t)tx * DAMAGE_TILE * 4;
            size_t x1 = (size_t)run * DAMAGE_TILE * 4 < pitch ? (size_t)run * DAMAGE_TILE * 4 : pitch;
            for (uint32_t y = y0; y < y1; y++) {
                memcpy(fb->data + y * pitch + x0, pixels + y * pitch + x0, x1 - x0);
            }

            tx = run;
        }

        publish(fb, (uint32_t)(y1 * pitch));
    }
}

int kvmfr_post_frame(struct kvmfr_producer *producer, const struct kvmfr_image *image, const struct damage_map *changed,
    int verbose)
{
    uint32_t pitch = image->width * 4;
    uint32_t capacity = producer->max_frame_size - KVMFR_PAGE;
    if (pitch == 0 || pitch > capacity) {
        fprintf(stderr, "kvmfr-capture: a %ux%u frame does not fit a %u-byte buffer\n", image->width, image->height, capacity);
        return -1;
    }

    if (image->width != producer->width || image->height != producer->height || producer->last_buffer < 0) {
        /* New geometry: clients reconfigure on a new formatVer, and both buffers are stale everywhere. */
        if (image->width != producer->width || image->height != producer->height || producer->format_ver == 0) {
            producer->format_ver++;
        }

        for (int i = 0; i < 2; i++) {
            if (damage_resize(&producer->pending_damage[i], image->width, image->height) != 0) {
                fprintf(stderr, "kvmfr-capture: out of memory\n");
                return -1;
            }
        }

        producer->width = image->width;
        producer->height = image->height;
        changed = NULL;
    }

    for (int i = 0; i < 2; i++) {
        if (changed == NULL) {
            damage_mark_full(&producer->pending_damage[i]);
        } else {
            damage_merge(&producer->pending_damage[i], changed);
        }
    }

    uint32_t rows = image->height;
    uint32_t flags = 0;
    if ((uint64_t)rows * pitch > capacity) {
        rows = capacity / pitch;
        flags |= KVMFR_FRAME_FLAG_TRUNCATED;
    }

    int index = producer->next_buffer;
    struct kvmfr_frame *frame = lgmp_host_ptr(&producer->host, producer->frames[index]);
    frame->format_ver = producer->format_ver;
    frame->frame_serial = ++producer->frame_serial;
    frame->type = KVMFR_FRAME_TYPE_BGRA;
    frame->screen_width = image->width;
    frame->screen_height = image->height;
    frame->data_width = image->width;
    frame->data_height = rows;
    frame->frame_width = image->width;
    frame->frame_height = image->height;
    frame->rotation = 0;
    frame->stride = image->width;
    frame->pitch = pitch;
    frame->offset = KVMFR_FRAME_BUFFER_OFFSET;
    frame->flags = flags;
    struct damage_rect rects[KVMFR_MAX_DAMAGE_RECTS];
    int count = changed == NULL ? -1 : damage_rects(changed, image->width, rows, rects, KVMFR_MAX_DAMAGE_RECTS);
    if (count == 1 && rects[0].width == image->width && rects[0].height == rows) {
        count = -1; /* one rect over everything says the same as none */
    }

    frame->damage_rects_count = count < 0 ? 0 : (uint32_t)count;
    for (int i = 0; i < count; i++) {
        frame->damage_rects[i] = (struct kvmfr_damage_rect){ rects[i].x, rects[i].y, rects[i].width, rects[i].height };
    }

    /* Post first, then stream the pixels: the client copies while we write (brief section 3.4). */
    struct kvmfr_framebuffer *fb = frame_buffer(producer, index);
    publish(fb, 0);
    int posted = 0;
    enum lgmp_status status;
    while ((status = lgmp_host_post(producer->frame_queue, 0, producer->frames[index], &posted)) == LGMP_ERR_QUEUE_FULL) {
        usleep(100);
    }

    if (check(status, "frame post") != 0) {
        return -1;
    }

    struct damage_map *pending = &producer->pending_damage[index];
    if (pending->full) {
        copy_full(fb, image->pixels, rows * pitch);
    } else {
        copy_tiles(fb, image->pixels, pending, image->width, rows);
    }

    publish(fb, rows * pitch);
    damage_clear(pending);
    producer->last_buffer = index;
    producer->next_buffer = index ^ 1;
    if (verbose) {
        printf("kvmfr-capture: frame %u %ux%u format %u buffer %d damage %s%d %s\n", frame->frame_serial, image->width,
            image->height, frame->format_ver, index, count < 0 ? "full/" : "", count < 0 ? 0 : count,
            posted ? "posted" : "written (no subscriber)");
        fflush(stdout);
    }

    return posted;
}

int kvmfr_repost_frame(struct kvmfr_producer *producer)
{
    if (producer->last_buffer < 0 || !kvmfr_frame_slot_free(producer)) {
        return 0;
    }

    int posted = 0;
    if (check(lgmp_host_post(producer->frame_queue, 0, producer->frames[producer->last_buffer], &posted), "frame re-post") != 0) {
        return -1;
    }

    return posted;
}

/* Posts on the pointer queue, waiting up to 50 ms for room; a cursor update is dropped rather than block. */
static int post_pointer(struct kvmfr_producer *producer, uint32_t flags, struct lgmp_mem mem)
{
    int posted = 0;
    for (int tries = 0; tries < 500; tries++) {
        enum lgmp_status status = lgmp_host_post(producer->pointer_queue, flags, mem, &posted);
        if (status == LGMP_OK) {
            return posted;
        }

        if (status != LGMP_ERR_QUEUE_FULL) {
            return check(status, "pointer post");
        }

        usleep(100);
    }

    return 0;
}

int kvmfr_post_cursor_shape(struct kvmfr_producer *producer, const uint8_t *bgra, uint32_t width, uint32_t height,
    int16_t x, int16_t y, int8_t hot_x, int8_t hot_y)
{
    if (width == 0 || height == 0 || width > KVMFR_MAX_POINTER_SIZE || height > KVMFR_MAX_POINTER_SIZE) {
        return kvmfr_post_cursor_move(producer, x, y, 0);
    }

    int index = producer->next_shape;
    producer->next_shape = (index + 1) % KVMFR_POINTER_SHAPE_BUFFERS;
    struct kvmfr_cursor *cursor = lgmp_host_ptr(&producer->host, producer->shape_buffers[index]);
    cursor->x = x;
    cursor->y = y;
    cursor->type = KVMFR_CURSOR_TYPE_COLOR;
    cursor->hx = hot_x;
    cursor->hy = hot_y;
    cursor->width = width;
    cursor->height = height;
    cursor->pitch = width * 4;
    memcpy((uint8_t *)(cursor + 1), bgra, (size_t)width * height * 4);
    producer->cursor_known = 1;
    producer->cursor_visible = 1;
    producer->cursor_x = x;
    producer->cursor_y = y;
    producer->cursor_shape = index;
    return post_pointer(producer, KVMFR_CURSOR_FLAG_POSITION | KVMFR_CURSOR_FLAG_SHAPE | KVMFR_CURSOR_FLAG_VISIBLE,
        producer->shape_buffers[index]);
}

int kvmfr_post_cursor_move(struct kvmfr_producer *producer, int16_t x, int16_t y, int visible)
{
    int index = producer->next_position;
    producer->next_position = (index + 1) % KVMFR_POINTER_POSITION_BUFFERS;
    struct kvmfr_cursor *cursor = lgmp_host_ptr(&producer->host, producer->position_buffers[index]);
    memset(cursor, 0, sizeof *cursor);
    cursor->x = x;
    cursor->y = y;
    producer->cursor_known = 1;
    producer->cursor_visible = visible;
    producer->cursor_x = x;
    producer->cursor_y = y;
    return post_pointer(producer, KVMFR_CURSOR_FLAG_POSITION | (visible ? KVMFR_CURSOR_FLAG_VISIBLE : 0),
        producer->position_buffers[index]);
}

int kvmfr_post_cursor_hidden(struct kvmfr_producer *producer)
{
    return kvmfr_post_cursor_move(producer, producer->cursor_x, producer->cursor_y, 0);
}

int kvmfr_repost_cursor(struct kvmfr_producer *producer)
{
    if (!producer->cursor_known) {
        return kvmfr_post_cursor_hidden(producer);
    }

    if (producer->cursor_shape >= 0) {
        struct kvmfr_cursor *cursor = lgmp_host_ptr(&producer->host, producer->shape_buffers[producer->cursor_shape]);
        cursor->x = producer->cursor_x;
        cursor->y = producer->cursor_y;
        return post_pointer(producer, KVMFR_CURSOR_FLAG_POSITION | KVMFR_CURSOR_FLAG_SHAPE
            | (producer->cursor_visible ? KVMFR_CURSOR_FLAG_VISIBLE : 0), producer->shape_buffers[producer->cursor_shape]);
    }

    return kvmfr_post_cursor_move(producer, producer->cursor_x, producer->cursor_y, producer->cursor_visible);
}

/* cross-domain-x11: one X11 connection setup through virtio-gpu's cross-domain context, from a Linux guest, the way
 * muvm-x11bridge opens a channel for each client: DRM_IOCTL_VIRTGPU_CONTEXT_INIT (capset 5, two rings, ring 1
 * polled), two 4 KiB guest blobs mapped as the query and channel rings, INIT for the X11 channel, a POLL fenced on
 * ring 1 kept outstanding, SEND of the setup request, then RECEIVE messages read from the channel ring each time the
 * kernel reports the fence (VIRTGPU_EVENT_FENCE_SIGNALED on the DRM fd) until the whole reply came. Prints the same
 * lines as tools/guest-payloads/elf/cross-domain-ring3.c and exits 0 when the host's X server accepted the client.
 *
 *   cross-domain-x11 [/dev/dri/card0]
 *
 * Debian's libdrm headers predate blobs and context init, so the uapi additions (Linux 5.16+) are declared here as
 * include/uapi/drm/virtgpu_drm.h has them. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <drm.h>

#define DRM_VIRTGPU_MAP 0x01
#define DRM_VIRTGPU_EXECBUFFER 0x02
#define DRM_VIRTGPU_GETPARAM 0x03
#define DRM_VIRTGPU_RESOURCE_CREATE_BLOB 0x0a
#define DRM_VIRTGPU_CONTEXT_INIT 0x0b
#define VIRTGPU_EXECBUF_RING_IDX 0x04
#define VIRTGPU_PARAM_CONTEXT_INIT 6
#define VIRTGPU_PARAM_SUPPORTED_CAPSET_IDS 7
#define VIRTGPU_BLOB_MEM_GUEST 0x0001
#define VIRTGPU_BLOB_FLAG_USE_MAPPABLE 0x0001
#define VIRTGPU_CONTEXT_PARAM_CAPSET_ID 0x0001
#define VIRTGPU_CONTEXT_PARAM_NUM_RINGS 0x0002
#define VIRTGPU_CONTEXT_PARAM_POLL_RINGS_MASK 0x0003
#define VIRTGPU_EVENT_FENCE_SIGNALED 0x90000000u

struct virtgpu_map { uint64_t offset; uint32_t handle, pad; };
struct virtgpu_execbuffer {
    uint32_t flags, size;
    uint64_t command, bo_handles;
    uint32_t num_bo_handles;
    int32_t fence_fd;
    uint32_t ring_idx, pad;
};
struct virtgpu_getparam { uint64_t param, value; };
struct virtgpu_create_blob {
    uint32_t blob_mem, blob_flags, bo_handle, res_handle;
    uint64_t size;
    uint32_t pad, cmd_size;
    uint64_t cmd, blob_id;
};
struct virtgpu_context_set_param { uint64_t param, value; };
struct virtgpu_context_init { uint32_t num_params, pad; uint64_t ctx_set_params; };

#define IOCTL_MAP DRM_IOWR(DRM_COMMAND_BASE + DRM_VIRTGPU_MAP, struct virtgpu_map)
#define IOCTL_EXECBUFFER DRM_IOWR(DRM_COMMAND_BASE + DRM_VIRTGPU_EXECBUFFER, struct virtgpu_execbuffer)
#define IOCTL_GETPARAM DRM_IOWR(DRM_COMMAND_BASE + DRM_VIRTGPU_GETPARAM, struct virtgpu_getparam)
#define IOCTL_CREATE_BLOB DRM_IOWR(DRM_COMMAND_BASE + DRM_VIRTGPU_RESOURCE_CREATE_BLOB, struct virtgpu_create_blob)
#define IOCTL_CONTEXT_INIT DRM_IOWR(DRM_COMMAND_BASE + DRM_VIRTGPU_CONTEXT_INIT, struct virtgpu_context_init)

/* Cross-domain (capset 5, libkrun's dialect). */
#define CAPSET_CROSS_DOMAIN 5
#define CD_INIT 1
#define CD_POLL 3
#define CD_SEND 4
#define CD_RECEIVE 5
#define CD_CHANNEL_X11 0x11
#define CD_SEND_DATA 352
#define RING_SIZE 4096

static int drm;

static void die(const char *what)
{
    printf("xd: FAIL %s: %s\n", what, strerror(errno));
    exit(1);
}

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static uint16_t get16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }

/* EXECBUFFER of one cross-domain command on a ring (the kernel fences every submission). */
static void submit(const void *command, uint32_t size, uint32_t ring)
{
    struct virtgpu_execbuffer exec = { .flags = VIRTGPU_EXECBUF_RING_IDX, .size = size,
                                       .command = (uintptr_t)command, .fence_fd = -1, .ring_idx = ring };
    if (ioctl(drm, IOCTL_EXECBUFFER, &exec)) die("EXECBUFFER");
}

static void post_poll(void)
{
    uint8_t poll_command[16] = { CD_POLL };
    put16(poll_command + 2, sizeof poll_command);
    submit(poll_command, sizeof poll_command, 1);
}

/* Waits for the ring-1 fence the kernel reports as a DRM event on the fd. */
static void wait_for_channel(void)
{
    for (;;) {
        struct pollfd p = { .fd = drm, .events = POLLIN };
        int r = poll(&p, 1, 30000);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) { errno = r ? errno : ETIMEDOUT; die("waiting for the channel ring's fence"); }
        uint8_t events[256];
        ssize_t n = read(drm, events, sizeof events);
        if (n < 0) die("read of the DRM events");
        for (ssize_t at = 0; at + 8 <= n; at += get32(events + at + 4)) {
            if (get32(events + at) == VIRTGPU_EVENT_FENCE_SIGNALED) return;
            if (get32(events + at + 4) < 8) break;
        }
    }
}

static uint8_t *ring_blob(uint32_t *resource)
{
    struct virtgpu_create_blob blob = { .blob_mem = VIRTGPU_BLOB_MEM_GUEST, .blob_flags = VIRTGPU_BLOB_FLAG_USE_MAPPABLE,
                                        .size = RING_SIZE };
    if (ioctl(drm, IOCTL_CREATE_BLOB, &blob)) die("RESOURCE_CREATE_BLOB");
    struct virtgpu_map map = { .handle = blob.bo_handle };
    if (ioctl(drm, IOCTL_MAP, &map)) die("MAP");
    void *ring = mmap(NULL, RING_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, drm, (off_t)map.offset);
    if (ring == MAP_FAILED) die("mmap of a ring");
    *resource = blob.res_handle;
    return ring;
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "/dev/dri/card0";
    setvbuf(stdout, NULL, _IONBF, 0);
    if ((drm = open(path, O_RDWR | O_CLOEXEC)) < 0) die(path);

    struct virtgpu_getparam param = { .param = VIRTGPU_PARAM_CONTEXT_INIT };
    uint64_t value = 0;
    param.value = (uintptr_t)&value;
    if (ioctl(drm, IOCTL_GETPARAM, &param) || !value) { printf("xd: FAIL the device has no CONTEXT_INIT\n"); return 1; }
    param = (struct virtgpu_getparam){ .param = VIRTGPU_PARAM_SUPPORTED_CAPSET_IDS, .value = (uintptr_t)&value };
    if (ioctl(drm, IOCTL_GETPARAM, &param)) die("GETPARAM SUPPORTED_CAPSET_IDs");
    printf("xd: capsets %#llx\n", (unsigned long long)value);
    if (!(value & (1u << CAPSET_CROSS_DOMAIN))) { printf("xd: FAIL no cross-domain capset (5)\n"); return 1; }

    struct virtgpu_context_set_param params[] = {
        { VIRTGPU_CONTEXT_PARAM_CAPSET_ID, CAPSET_CROSS_DOMAIN },
        { VIRTGPU_CONTEXT_PARAM_NUM_RINGS, 2 },
        { VIRTGPU_CONTEXT_PARAM_POLL_RINGS_MASK, 1u << 1 },
    };
    struct virtgpu_context_init init = { .num_params = 3, .ctx_set_params = (uintptr_t)params };
    if (ioctl(drm, IOCTL_CONTEXT_INIT, &init)) die("CONTEXT_INIT");

    uint32_t query_id, channel_id;
    (void)ring_blob(&query_id);
    uint8_t *channel = ring_blob(&channel_id);

    uint8_t command[CD_SEND_DATA + 12] = { 0 };
    command[0] = CD_INIT;
    put16(command + 2, 24);
    put32(command + 8, query_id);
    put32(command + 12, channel_id);
    put32(command + 16, CD_CHANNEL_X11);
    put32(command + 20, 1);
    submit(command, 24, 0);
    printf("xd: context on capset 5, rings attached, X11 channel open\n");
    post_poll();

    memset(command, 0, sizeof command);
    command[0] = CD_SEND;
    put16(command + 2, sizeof command);
    put32(command + 12, 12);
    uint8_t *x11 = command + CD_SEND_DATA;
    x11[0] = 'l';
    put16(x11 + 2, 11);
    submit(command, sizeof command, 0);
    printf("xd: sent the X11 connection setup (12 bytes)\n");

    static uint8_t reply[65536];
    uint32_t have = 0, need = 8, messages = 0;
    while (have < need) {
        wait_for_channel();
        uint32_t data = get32(channel + 12);
        if (channel[0] != CD_RECEIVE) { printf("xd: FAIL message %u in the channel ring\n", channel[0]); return 1; }
        if (data == 0) { printf("xd: FAIL the host closed the X11 channel\n"); return 1; }
        if (data > RING_SIZE - CD_SEND_DATA || have + data > sizeof reply) { printf("xd: FAIL RECEIVE too large\n"); return 1; }
        memcpy(reply + have, channel + CD_SEND_DATA, data);
        have += data;
        messages++;
        if (have >= 8) need = 8 + 4u * get16(reply + 6);
        if (need > sizeof reply) { printf("xd: FAIL setup reply too long\n"); return 1; }
        post_poll();
    }
    printf("xd: setup reply: %u bytes in %u RECEIVE messages\n", have, messages);
    if (reply[0] != 1) { printf("xd: FAIL the X server refused the connection\n"); return 1; }

    uint32_t vendor_length = get16(reply + 24), formats = reply[29];
    uint32_t screen = 40 + ((vendor_length + 3) & ~3u) + 8 * formats;
    if (screen + 40 > have) { printf("xd: FAIL setup reply shorter than its first screen\n"); return 1; }
    printf("xd: x11 success, protocol %u.%u, release %u, vendor '%.*s', root %#x %ux%u\n", get16(reply + 2),
           get16(reply + 4), get32(reply + 8), (int)vendor_length, (const char *)reply + 40, get32(reply + screen),
           get16(reply + screen + 20), get16(reply + screen + 22));
    close(drm); /* the kernel destroys the context; the host closes its socket */
    return 0;
}

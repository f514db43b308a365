/* A polled ring-3 virtio-fs driver for the kvm payloads, as Linux 6.1's virtiofs drives the device for a DAX mount:
 * finds the device on PCI bus 0, moves BAR0 and the DAX window's BAR into the identity-mapped 32-bit hole, reads the
 * SHARED_MEMORY capability (shmid 0), sets up request queue 1 without interrupts and sends FUSE requests one at a
 * time, laid out as virtio_fs_enqueue_req does (in-header, packed in-args, out-header, packed out-args).
 * Include after ring3-io.h. Requests fill fs_in_args and read fs_out_args; failures print "<prefix>: FAIL ...". */
#ifndef VMM_VIRTIOFS_RING3_H
#define VMM_VIRTIOFS_RING3_H

#include <stdint.h>

#define FS_REQUEST_QUEUE 1
#define FS_QUEUE_SIZE 8
#define FS_SPIN_LIMIT 400000000ull

#define FUSE_LOOKUP 1
#define FUSE_OPEN 14
#define FUSE_RELEASE 18
#define FUSE_INIT 26
#define FUSE_IOCTL 39
#define FUSE_SETUPMAPPING 48
#define FUSE_REMOVEMAPPING 49
#define FUSE_MAP_ALIGNMENT (1u << 26)
#define LINUX_61_DAX_INIT_FLAGS 0x7ffffffbu /* 6.1 fuse_send_init with a DAX window: bits 0-30 but FILE_OPS */
#define FUSE_SECURITY_CTX 1u              /* flags2 bit 0 */
#define VIRTIO_IOC_EXPORT_FD 0x80107601u  /* libkrun's _IOR('v', 1, 16): {u64 fs_id; u64 handle} */

struct fs_desc { uint64_t addr; uint32_t len; uint16_t flags; uint16_t next; };
struct fs_avail { uint16_t flags; uint16_t idx; uint16_t ring[FS_QUEUE_SIZE]; uint16_t used_event; };
struct fs_used { uint16_t flags; uint16_t idx; struct { uint32_t id; uint32_t len; } ring[FS_QUEUE_SIZE]; uint16_t avail_event; };

/* What fs_setup found: the DAX window (guest-physical), the tag and the number of request queues. */
struct fs_device {
    int bar;
    uint64_t window, window_offset, window_length;
    char tag[37];
    uint32_t request_queues;
};

static const char *fs_prefix = "fs";
static struct fs_desc fs_descs[FS_QUEUE_SIZE] __attribute__((aligned(16)));
static struct fs_avail fs_avail_ring __attribute__((aligned(2)));
static volatile struct fs_used fs_used_ring __attribute__((aligned(4)));
static uint8_t fs_in_header[40];
static uint8_t fs_in_args[256];
static uint8_t fs_out_header[16];
static uint8_t fs_out_args[256];
static uint64_t fs_next_unique = 2;
static uint16_t fs_last_used;
static uint64_t fs_doorbell;

static inline void fs_put32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (i * 8)); }
static inline void fs_put64(uint8_t *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (i * 8)); }
static inline uint32_t fs_get32(const uint8_t *p) { uint32_t v = 0; for (int i = 3; i >= 0; i--) v = (v << 8) | p[i]; return v; }
static inline uint64_t fs_get64(const uint8_t *p) { uint64_t v = 0; for (int i = 7; i >= 0; i--) v = (v << 8) | p[i]; return v; }
static inline void fs_zero(uint8_t *p, uint32_t n) { while (n--) *p++ = 0; }

static inline int fs_fail(const char *why) { puts_(fs_prefix); puts_(": FAIL "); puts_(why); putc_('\n'); return 1; }
static inline int fs_fail_errno(const char *op, int64_t error)
{
    puts_(fs_prefix); puts_(": FAIL "); puts_(op); puts_(" error "); putdec((uint64_t)-error); putc_('\n');
    return 1;
}

/* Finds virtio-fs, places its BARs (BAR0 at bar0_address, the window's BAR at shm_address, below shm_limit), and
 * brings request queue 1 up, polled. Returns 0, or 1 after printing why. */
static inline int fs_setup(uint32_t bar0_address, uint32_t shm_address, uint32_t shm_limit, uint64_t min_window, struct fs_device *out)
{
    int dev = -1;
    for (int d = 0; d < 32; d++) {
        if (cfg_read32(d, 0) == 0x105a1af4u) { dev = d; break; }
    }
    if (dev < 0) return fs_fail("no virtio-fs (1af4:105a) on bus 0");
    puts_(fs_prefix); puts_(": virtio-fs at 00:"); putdec((uint64_t)dev); puts_(".0\n");
    if (!(cfg_read16(dev, 0x06) & 0x10)) return fs_fail("no capability list");

    uint32_t common_off = 0, notify_off = 0, device_off = 0, multiplier = 0;
    int have_common = 0, have_notify = 0, have_device = 0, shm_bar = -1;
    uint64_t shm_offset = 0, shm_length = 0;
    for (int cap = cfg_read8(dev, 0x34) & 0xfc, n = 0; cap && n < 48; cap = cfg_read8(dev, cap + 1) & 0xfc, n++) {
        if (cfg_read8(dev, cap) != 0x09) continue;
        uint8_t type = cfg_read8(dev, cap + 3), bar = cfg_read8(dev, cap + 4);
        uint32_t offset = cfg_read32(dev, cap + 8);
        if (type == 8) {
            if (cfg_read8(dev, cap + 2) < 24 || cfg_read8(dev, cap + 5) != 0) continue; /* shmid 0: the DAX cache */
            shm_bar = bar;
            shm_offset = offset | ((uint64_t)cfg_read32(dev, cap + 16) << 32);
            shm_length = cfg_read32(dev, cap + 12) | ((uint64_t)cfg_read32(dev, cap + 20) << 32);
            continue;
        }
        if (bar != 0) continue;
        if (type == 1) { common_off = offset; have_common = 1; }
        else if (type == 2) { notify_off = offset; multiplier = cfg_read32(dev, cap + 16); have_notify = 1; }
        else if (type == 4) { device_off = offset; have_device = 1; }
    }
    if (!have_common || !have_notify || !have_device) return fs_fail("missing common/notify/device capability");
    if (shm_bar < 1 || shm_bar > 5) return fs_fail("no shared-memory capability with shmid 0 (no DAX window)");

    /* Firmware's job: BAR0 and the window's 64-bit BAR into the identity-mapped 32-bit hole, decoding on. */
    int shm_reg = 0x10 + shm_bar * 4;
    cfg_write16(dev, 0x04, 0);
    cfg_write32(dev, shm_reg, 0xffffffffu);
    cfg_write32(dev, shm_reg + 4, 0xffffffffu);
    uint64_t mask = (cfg_read32(dev, shm_reg) & ~0xfull) | ((uint64_t)cfg_read32(dev, shm_reg + 4) << 32);
    uint64_t shm_bar_size = ~mask + 1;
    if ((cfg_read32(dev, shm_reg) & 0x6) != 0x4) return fs_fail("shared-memory BAR is not 64-bit");
    if (shm_offset > shm_bar_size || shm_length > shm_bar_size - shm_offset) return fs_fail("window exceeds its BAR");
    if (shm_bar_size > shm_limit - shm_address || shm_length < min_window) return fs_fail("window BAR too large for the hole or window too small");
    cfg_write32(dev, 0x10, bar0_address | 0x4);
    cfg_write32(dev, 0x14, 0);
    cfg_write32(dev, shm_reg, shm_address | 0xc);
    cfg_write32(dev, shm_reg + 4, 0);
    cfg_write16(dev, 0x04, 0x6);
    uint64_t bar0 = cfg_read32(dev, 0x10) & ~0xfu;
    uint64_t window = (cfg_read32(dev, shm_reg) & ~0xfull) + shm_offset;
    if (bar0 != bar0_address || window != shm_address + shm_offset) return fs_fail("BARs did not move");
    uint64_t common = bar0 + common_off, device = bar0 + device_off;

    out->bar = shm_bar;
    out->window = window;
    out->window_offset = shm_offset;
    out->window_length = shm_length;
    for (int i = 0; i < 36; i++) out->tag[i] = (char)MMIO8(device + (uint64_t)i);
    out->tag[36] = 0;
    out->request_queues = MMIO32(device + 36);

    MMIO8(common + 0x14) = 0;
    if (MMIO8(common + 0x14) != 0) return fs_fail("reset did not read back 0");
    MMIO8(common + 0x14) = 1 | 2;
    MMIO32(common + 0x00) = 1;
    if (!(MMIO32(common + 0x04) & 1)) return fs_fail("device does not offer VERSION_1");
    MMIO32(common + 0x08) = 0; MMIO32(common + 0x0c) = 0;
    MMIO32(common + 0x08) = 1; MMIO32(common + 0x0c) = 1;
    MMIO8(common + 0x14) = 1 | 2 | 8;
    if (!(MMIO8(common + 0x14) & 8)) return fs_fail("FEATURES_OK not accepted");

    MMIO16(common + 0x10) = 0xffff;
    MMIO16(common + 0x16) = FS_REQUEST_QUEUE;
    if (MMIO16(common + 0x18) < FS_QUEUE_SIZE) return fs_fail("request queue too small");
    MMIO16(common + 0x18) = FS_QUEUE_SIZE;
    MMIO16(common + 0x1a) = 0xffff; /* polled */
    MMIO32(common + 0x20) = (uint32_t)(uintptr_t)fs_descs; MMIO32(common + 0x24) = 0;
    MMIO32(common + 0x28) = (uint32_t)(uintptr_t)&fs_avail_ring; MMIO32(common + 0x2c) = 0;
    MMIO32(common + 0x30) = (uint32_t)(uintptr_t)&fs_used_ring; MMIO32(common + 0x34) = 0;
    fs_doorbell = bar0 + notify_off + (uint64_t)MMIO16(common + 0x1e) * multiplier;
    MMIO16(common + 0x1c) = 1;
    MMIO8(common + 0x14) = 1 | 2 | 8 | 4;
    return 0;
}

/* Sends one FUSE request on the request queue and polls for its answer: the out-args length, or -errno. */
static inline int64_t fs_request(uint32_t opcode, uint64_t nodeid, uint32_t in_len, uint32_t out_len)
{
    uint64_t unique = fs_next_unique;
    fs_next_unique += 2;
    fs_zero(fs_in_header, sizeof fs_in_header);
    fs_put32(fs_in_header + 0, 40 + in_len);
    fs_put32(fs_in_header + 4, opcode);
    fs_put64(fs_in_header + 8, unique);
    fs_put64(fs_in_header + 16, nodeid);
    fs_zero(fs_out_header, sizeof fs_out_header);

    int n = 0;
    fs_descs[n] = (struct fs_desc){ (uint64_t)(uintptr_t)fs_in_header, sizeof fs_in_header, 1, (uint16_t)(n + 1) }; n++;
    if (in_len) { fs_descs[n] = (struct fs_desc){ (uint64_t)(uintptr_t)fs_in_args, in_len, 1, (uint16_t)(n + 1) }; n++; }
    fs_descs[n] = (struct fs_desc){ (uint64_t)(uintptr_t)fs_out_header, sizeof fs_out_header, 2 | (out_len ? 1 : 0), (uint16_t)(n + 1) }; n++;
    if (out_len) { fs_descs[n] = (struct fs_desc){ (uint64_t)(uintptr_t)fs_out_args, out_len, 2, 0 }; n++; }

    uint16_t slot = fs_avail_ring.idx;
    fs_avail_ring.ring[slot % FS_QUEUE_SIZE] = 0;
    barrier();
    fs_avail_ring.idx = (uint16_t)(slot + 1);
    barrier();
    MMIO16(fs_doorbell) = FS_REQUEST_QUEUE;

    for (uint64_t spins = 0; fs_used_ring.idx == fs_last_used; spins++) {
        if (spins > FS_SPIN_LIMIT) return -110; /* ETIMEDOUT */
        __asm__ volatile("pause" ::: "memory");
    }
    fs_last_used++;
    barrier();
    uint32_t len = fs_get32(fs_out_header);
    int32_t error = (int32_t)fs_get32(fs_out_header + 4);
    if (fs_get64(fs_out_header + 8) != unique || len < 16) return -71; /* EPROTO */
    return error ? error : (int64_t)(len - 16);
}

/* FUSE_INIT 7.37 with the flags 6.1 sends for `mount -t virtiofs TAG /mnt -o dax`; fs_out_args holds the reply. */
static inline int64_t fs_init_dax(void)
{
    fs_zero(fs_in_args, 64);
    fs_put32(fs_in_args + 0, 7);
    fs_put32(fs_in_args + 4, 37);
    fs_put32(fs_in_args + 8, 0x20000);
    fs_put32(fs_in_args + 12, LINUX_61_DAX_INIT_FLAGS);
    fs_put32(fs_in_args + 16, FUSE_SECURITY_CTX);
    return fs_request(FUSE_INIT, 0, 64, 64);
}

/* LOOKUP of a name in the root; the 128-byte fuse_entry_out goes to entry_out. */
static inline int64_t fs_lookup(const char *name, uint8_t *entry_out)
{
    uint32_t n = 0;
    while (name[n]) { fs_in_args[n] = (uint8_t)name[n]; n++; }
    fs_in_args[n++] = 0;
    int64_t r = fs_request(FUSE_LOOKUP, 1, n, 128);
    if (r >= 0) for (int i = 0; i < 128; i++) entry_out[i] = fs_out_args[i];
    return r;
}

/* OPEN O_RDWR; the file handle goes to *fh. */
static inline int64_t fs_open_rdwr(uint64_t node, uint64_t *fh)
{
    fs_zero(fs_in_args, 8);
    fs_put32(fs_in_args, 2); /* O_RDWR */
    int64_t r = fs_request(FUSE_OPEN, node, 8, 16);
    if (r >= 0) *fh = fs_get64(fs_out_args);
    return r;
}

/* SETUPMAPPING as 6.1 sends it from a write fault: fh ~0, file [0, length) READ|WRITE at window_offset. */
static inline int64_t fs_map(uint64_t node, uint64_t length, uint64_t window_offset)
{
    fs_put64(fs_in_args + 0, ~0ull);
    fs_put64(fs_in_args + 8, 0);
    fs_put64(fs_in_args + 16, length);
    fs_put64(fs_in_args + 24, 3);
    fs_put64(fs_in_args + 32, window_offset);
    return fs_request(FUSE_SETUPMAPPING, node, 40, 0);
}

static inline int64_t fs_unmap(uint64_t node, uint64_t length, uint64_t window_offset)
{
    fs_put32(fs_in_args + 0, 1);
    fs_put64(fs_in_args + 4, window_offset);
    fs_put64(fs_in_args + 12, length);
    return fs_request(FUSE_REMOVEMAPPING, node, 20, 0);
}

static inline int64_t fs_release(uint64_t node, uint64_t fh)
{
    fs_zero(fs_in_args, 24);
    fs_put64(fs_in_args + 0, fh);
    fs_put32(fs_in_args + 8, 2);
    return fs_request(FUSE_RELEASE, node, 24, 0);
}

/* libkrun's VIRTIO_IOC_EXPORT_FD on an open file, as its guest kernel patch sends it: the {fs_id, handle} pair the
 * cross-domain device resolves through the VMM's export table. */
static inline int64_t fs_export(uint64_t node, uint64_t fh, uint64_t *fs_id, uint64_t *handle)
{
    fs_zero(fs_in_args, 32);
    fs_put64(fs_in_args + 0, fh);
    fs_put32(fs_in_args + 8, 0);                    /* flags */
    fs_put32(fs_in_args + 12, VIRTIO_IOC_EXPORT_FD); /* cmd */
    fs_put64(fs_in_args + 16, 0);                   /* arg */
    fs_put32(fs_in_args + 24, 0);                   /* in_size */
    fs_put32(fs_in_args + 28, 16);                  /* out_size */
    int64_t r = fs_request(FUSE_IOCTL, node, 32, 16 + 16);
    if (r < 0) return r;
    if (r < 32 || (int32_t)fs_get32(fs_out_args) != 0) return -71; /* EPROTO */
    *fs_id = fs_get64(fs_out_args + 16);
    *handle = fs_get64(fs_out_args + 24);
    return 0;
}

#endif

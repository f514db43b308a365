/* Ring-3 virtio-fs DAX driver for the kvm platform: the smallest driver that does what Linux 6.1's virtiofs does
 * for a DAX mmap, then shares pages and atomics with a host process through the window.
 *
 * Enumerates PCI bus 0 (0xCF8/0xCFC), finds virtio-fs (1AF4:105A), moves BAR0 and the shared-memory BAR into the
 * 32-bit hole (the identity map ends at 4 GiB), reads the SHARED_MEMORY capability (cfg_type 8, shmid 0 = the DAX
 * window), sets up request queue 1 (polled, no interrupts), sends FUSE_INIT 7.37 with the flags 6.1 sends when it
 * mounts with -o dax, LOOKUPs and OPENs "dax-shared", SETUPMAPPINGs its first 2 MiB read-write at window offset 0,
 * and then, through the window's guest-physical address, runs this protocol with a host process that maps the same
 * file (offsets in the file):
 *   0x00 u64 magic       host writes before the run; the guest prints it and writes its complement to 0x10
 *   0x08 u64 iterations  host writes N: each side does at least N `lock xadd` increments of the counter at 0x40
 *   0x18 u32 guest_ready / 0x1c u32 host_ready   handshake before the increments
 *   0x20 u32 guest_done  / 0x24 u32 host_done    the guest reports, the host looks at its mapping, then releases
 *   0x28 u64 interleaved times the guest's xadd saw the counter moved by the host since its own last increment
 *   0x30 u64 cycles      TSC cycles of the guest's increments
 *   0x38 u64 increments  how many the guest did
 *   0x40 u64 counter
 *   0x80 u32 guest_overlapped / 0x84 u32 host_overlapped   set once a side saw the other's increments 100 times
 *   0x90 u64 host_increments
 *   0x98 u64 close       interleavings where the host did at most 1024 increments between two of the guest's: both
 *                        loops ran at the same time on different CPUs (not one after the other on a time-shared one)
 * Neither side stops before it did N and both saw each other's increments interleave with theirs 100 times, so
 * the two loops provably overlap, however the host schedules the threads; then the counter must be the sum.
 * then REMOVEMAPPINGs the range and RELEASEs the file. If the share also holds "dax-touch-after-remove", the
 * guest finally reads the removed range: the host has made it inaccessible, so KVM_RUN fails (EFAULT) and the run
 * ends with a platform error instead of exit code 0. Returns the exit code: 0 on success. */
#include <stdint.h>

#define COM1 0x3f8
#define BAR0_ADDRESS 0xd0000000u
#define SHM_ADDRESS 0xd8000000u
#define SHM_LIMIT 0xe0000000u /* ECAM starts here */
#define QUEUE_SIZE 8
#define REQUEST_QUEUE 1
#define MAP_LENGTH (2u << 20)
#define SPIN_LIMIT 400000000ull
#define MIN_INTERLEAVED 100
#define INCREMENT_LIMIT 500000000ull

#define FUSE_LOOKUP 1
#define FUSE_OPEN 14
#define FUSE_RELEASE 18
#define FUSE_INIT 26
#define FUSE_SETUPMAPPING 48
#define FUSE_REMOVEMAPPING 49
#define FUSE_MAP_ALIGNMENT (1u << 26)
#define FUSE_INIT_EXT (1u << 30)
#define LINUX_61_DAX_INIT_FLAGS 0x7ffffffbu /* 6.1 fuse_send_init with a DAX window: bits 0-30 but FILE_OPS */
#define FUSE_SECURITY_CTX 1u              /* flags2 bit 0 */

#include "ring3-io.h"

/* ring3-entry.S's msix_isr counts here; this driver polls and never routes an interrupt to it. */
volatile uint32_t msix_count;

static inline void pause(void) { __asm__ volatile("pause" ::: "memory"); }
static inline uint64_t rdtsc(void) { uint32_t lo, hi; __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi)); return ((uint64_t)hi << 32) | lo; }
static inline uint64_t xadd(volatile uint64_t *p, uint64_t v)
{
    __asm__ volatile("lock xaddq %0, %1" : "+r"(v), "+m"(*p) : : "memory");
    return v;
}

/* gcc may turn loops into calls to these even when freestanding. */
void *memset(void *d, int c, unsigned long n) { uint8_t *p = d; while (n--) *p++ = (uint8_t)c; return d; }
void *memcpy(void *d, const void *s, unsigned long n) { uint8_t *p = d; const uint8_t *q = s; while (n--) *p++ = *q++; return d; }

static int fail(const char *why) { puts_("dax: FAIL "); puts_(why); putc_('\n'); return 1; }
static int fail_errno(const char *op, int64_t error) { puts_("dax: FAIL "); puts_(op); puts_(" error "); putdec((uint64_t)-error); putc_('\n'); return 1; }

#define SHARED64(base, off) (*(volatile uint64_t *)(uintptr_t)((base) + (off)))
#define SHARED32(base, off) (*(volatile uint32_t *)(uintptr_t)((base) + (off)))

static struct desc descs[QUEUE_SIZE] __attribute__((aligned(16)));
static struct avail avail_ring __attribute__((aligned(2)));
static volatile struct used used_ring __attribute__((aligned(4)));

/* One request in flight, laid out as 6.1's virtio_fs_enqueue_req does: in-header, packed in-args (readable),
 * out-header, packed out-args (writable). */
static uint8_t in_header[40];
static uint8_t in_args[256];
static uint8_t out_header[16];
static uint8_t out_args[256];
static uint64_t next_unique = 2;
static uint16_t last_used;
static uint64_t doorbell;

static void put32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (i * 8)); }
static void put64(uint8_t *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (i * 8)); }
static uint32_t get32(const uint8_t *p) { uint32_t v = 0; for (int i = 3; i >= 0; i--) v = (v << 8) | p[i]; return v; }
static uint64_t get64(const uint8_t *p) { uint64_t v = 0; for (int i = 7; i >= 0; i--) v = (v << 8) | p[i]; return v; }

/* Sends one FUSE request on the request queue and polls for its answer: the out-args length, or -errno. */
static int64_t fuse(uint32_t opcode, uint64_t nodeid, uint32_t in_len, uint32_t out_len)
{
    uint64_t unique = next_unique;
    next_unique += 2;
    memset(in_header, 0, sizeof in_header);
    put32(in_header + 0, 40 + in_len);
    put32(in_header + 4, opcode);
    put64(in_header + 8, unique);
    put64(in_header + 16, nodeid);
    memset(out_header, 0, sizeof out_header);

    int n = 0;
    descs[n] = (struct desc){ (uint64_t)(uintptr_t)in_header, sizeof in_header, 1, (uint16_t)(n + 1) }; n++;
    if (in_len) { descs[n] = (struct desc){ (uint64_t)(uintptr_t)in_args, in_len, 1, (uint16_t)(n + 1) }; n++; }
    descs[n] = (struct desc){ (uint64_t)(uintptr_t)out_header, sizeof out_header, 2 | (out_len ? 1 : 0), (uint16_t)(n + 1) }; n++;
    if (out_len) { descs[n] = (struct desc){ (uint64_t)(uintptr_t)out_args, out_len, 2, 0 }; n++; }

    uint16_t slot = avail_ring.idx;
    avail_ring.ring[slot % QUEUE_SIZE] = 0;
    barrier();
    avail_ring.idx = (uint16_t)(slot + 1);
    barrier();
    MMIO16(doorbell) = REQUEST_QUEUE;

    for (uint64_t spins = 0; used_ring.idx == last_used; spins++) {
        if (spins > SPIN_LIMIT) return -110; /* ETIMEDOUT */
        pause();
    }
    last_used++;
    barrier();
    uint32_t len = get32(out_header);
    int32_t error = (int32_t)get32(out_header + 4);
    if (get64(out_header + 8) != unique || len < 16) return -71; /* EPROTO */
    return error ? error : (int64_t)(len - 16);
}

static int64_t lookup(const char *name, uint8_t *entry_out)
{
    uint32_t n = 0;
    while (name[n]) { in_args[n] = (uint8_t)name[n]; n++; }
    in_args[n++] = 0;
    int64_t r = fuse(FUSE_LOOKUP, 1, n, 128);
    if (r >= 0) memcpy(entry_out, out_args, 128);
    return r;
}

int main(void)
{
    int dev = -1;
    for (int d = 0; d < 32; d++) {
        if (cfg_read32(d, 0) == 0x105a1af4u) { dev = d; break; }
    }
    if (dev < 0) return fail("no virtio-fs (1af4:105a) on bus 0");
    puts_("dax: virtio-fs at 00:"); putdec((uint64_t)dev); puts_(".0\n");
    if (!(cfg_read16(dev, 0x06) & 0x10)) return fail("no capability list");

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
    if (!have_common || !have_notify || !have_device) return fail("missing common/notify/device capability");
    if (shm_bar < 1 || shm_bar > 5) return fail("no shared-memory capability with shmid 0 (no DAX window)");
    puts_("dax: window: bar "); putdec((uint64_t)shm_bar); puts_(" offset "); puthex(shm_offset);
    puts_(" length "); puthex(shm_length); putc_('\n');

    /* Firmware's job: BAR0 and the window's 64-bit BAR into the identity-mapped 32-bit hole, decoding on. */
    int shm_reg = 0x10 + shm_bar * 4;
    cfg_write16(dev, 0x04, 0);
    cfg_write32(dev, shm_reg, 0xffffffffu);
    cfg_write32(dev, shm_reg + 4, 0xffffffffu);
    uint64_t mask = (cfg_read32(dev, shm_reg) & ~0xfull) | ((uint64_t)cfg_read32(dev, shm_reg + 4) << 32);
    uint64_t shm_bar_size = ~mask + 1;
    if ((cfg_read32(dev, shm_reg) & 0x6) != 0x4) return fail("shared-memory BAR is not 64-bit");
    if (shm_offset > shm_bar_size || shm_length > shm_bar_size - shm_offset) return fail("window exceeds its BAR");
    if (shm_bar_size > SHM_LIMIT - SHM_ADDRESS || shm_length < MAP_LENGTH) return fail("window BAR too large for the hole or window under 2 MiB");
    cfg_write32(dev, 0x10, BAR0_ADDRESS | 0x4);
    cfg_write32(dev, 0x14, 0);
    cfg_write32(dev, shm_reg, SHM_ADDRESS | 0xc);
    cfg_write32(dev, shm_reg + 4, 0);
    cfg_write16(dev, 0x04, 0x6);
    uint64_t bar0 = cfg_read32(dev, 0x10) & ~0xfu;
    uint64_t window = (cfg_read32(dev, shm_reg) & ~0xfull) + shm_offset;
    if (bar0 != BAR0_ADDRESS || window != SHM_ADDRESS + shm_offset) return fail("BARs did not move");
    uint64_t common = bar0 + common_off, device = bar0 + device_off;

    char tag[37];
    for (int i = 0; i < 36; i++) tag[i] = (char)MMIO8(device + (uint64_t)i);
    tag[36] = 0;
    puts_("dax: tag "); puts_(tag); puts_(", request queues "); putdec(MMIO32(device + 36)); putc_('\n');

    MMIO8(common + 0x14) = 0;
    if (MMIO8(common + 0x14) != 0) return fail("reset did not read back 0");
    MMIO8(common + 0x14) = 1 | 2;
    MMIO32(common + 0x00) = 1;
    if (!(MMIO32(common + 0x04) & 1)) return fail("device does not offer VERSION_1");
    MMIO32(common + 0x08) = 0; MMIO32(common + 0x0c) = 0;
    MMIO32(common + 0x08) = 1; MMIO32(common + 0x0c) = 1;
    MMIO8(common + 0x14) = 1 | 2 | 8;
    if (!(MMIO8(common + 0x14) & 8)) return fail("FEATURES_OK not accepted");

    MMIO16(common + 0x10) = 0xffff;
    MMIO16(common + 0x16) = REQUEST_QUEUE;
    if (MMIO16(common + 0x18) < QUEUE_SIZE) return fail("request queue too small");
    MMIO16(common + 0x18) = QUEUE_SIZE;
    MMIO16(common + 0x1a) = 0xffff; /* polled */
    MMIO32(common + 0x20) = (uint32_t)(uintptr_t)descs; MMIO32(common + 0x24) = 0;
    MMIO32(common + 0x28) = (uint32_t)(uintptr_t)&avail_ring; MMIO32(common + 0x2c) = 0;
    MMIO32(common + 0x30) = (uint32_t)(uintptr_t)&used_ring; MMIO32(common + 0x34) = 0;
    doorbell = bar0 + notify_off + (uint64_t)MMIO16(common + 0x1e) * multiplier;
    MMIO16(common + 0x1c) = 1;
    MMIO8(common + 0x14) = 1 | 2 | 8 | 4;

    /* FUSE_INIT as 6.1 sends it for `mount -t virtiofs TAG /mnt -o dax`. */
    memset(in_args, 0, 64);
    put32(in_args + 0, 7);
    put32(in_args + 4, 37);
    put32(in_args + 8, 0x20000);
    put32(in_args + 12, LINUX_61_DAX_INIT_FLAGS);
    put32(in_args + 16, FUSE_SECURITY_CTX);
    int64_t r = fuse(FUSE_INIT, 0, 64, 64);
    if (r < 0) return fail_errno("INIT", r);
    uint32_t flags = get32(out_args + 12), alignment = out_args[30] | ((uint32_t)out_args[31] << 8);
    puts_("dax: init "); putdec(get32(out_args)); putc_('.'); putdec(get32(out_args + 4));
    puts_(" flags "); puthex(flags); puts_(" map_alignment "); putdec(alignment); putc_('\n');
    if (!(flags & FUSE_MAP_ALIGNMENT) || alignment > 21) return fail("server did not agree MAP_ALIGNMENT <= 21");

    uint8_t entry[128];
    r = lookup("dax-shared", entry);
    if (r < 0) return fail_errno("LOOKUP dax-shared", r);
    uint64_t node = get64(entry);
    puts_("dax: lookup dax-shared: node "); putdec(node); puts_(" size "); putdec(get64(entry + 48));
    puts_(" blksize "); putdec(get32(entry + 120)); putc_('\n');

    memset(in_args, 0, 8);
    put32(in_args, 2); /* O_RDWR */
    r = fuse(FUSE_OPEN, node, 8, 16);
    if (r < 0) return fail_errno("OPEN", r);
    uint64_t fh = get64(out_args);

    /* SETUPMAPPING as 6.1 sends it from a write fault: fh ~0, 2 MiB chunk 0, READ|WRITE, window offset 0. */
    put64(in_args + 0, ~0ull);
    put64(in_args + 8, 0);
    put64(in_args + 16, MAP_LENGTH);
    put64(in_args + 24, 3);
    put64(in_args + 32, 0);
    r = fuse(FUSE_SETUPMAPPING, node, 40, 0);
    if (r < 0) return fail_errno("SETUPMAPPING", r);
    puts_("dax: mapped file [0, 2 MiB) read-write at window offset 0, guest-physical "); puthex(window); putc_('\n');

    uint64_t magic = SHARED64(window, 0x00);
    uint64_t iterations = SHARED64(window, 0x08);
    puts_("dax: host wrote "); puthex(magic); puts_(", iterations "); putdec(iterations); putc_('\n');
    if (iterations == 0 || iterations > 100000000ull) return fail("bad iteration count in the shared page");
    SHARED64(window, 0x10) = ~magic;

    SHARED32(window, 0x18) = 1;
    for (uint64_t spins = 0; SHARED32(window, 0x1c) == 0; spins++) {
        if (spins > SPIN_LIMIT) return fail("host never became ready");
        pause();
    }

    volatile uint64_t *counter = (volatile uint64_t *)(uintptr_t)(window + 0x40);
    uint64_t interleaved = 0, close = 0, previous = 0, done = 0;
    uint64_t start = rdtsc();
    for (; done < iterations || !SHARED32(window, 0x80) || !SHARED32(window, 0x84); done++) {
        if (done == INCREMENT_LIMIT) return fail("the host's increments never interleaved with the guest's");
        uint64_t old = xadd(counter, 1);
        if (done != 0 && old != previous + 1) {
            if (old - previous - 1 <= 1024) close++;
            if (++interleaved == MIN_INTERLEAVED) SHARED32(window, 0x80) = 1;
        }
        previous = old;
    }
    uint64_t cycles = rdtsc() - start;
    SHARED64(window, 0x28) = interleaved;
    SHARED64(window, 0x30) = cycles;
    SHARED64(window, 0x38) = done;
    SHARED64(window, 0x98) = close;
    SHARED32(window, 0x20) = 1;
    puts_("dax: guest did "); putdec(done); puts_(" lock xadd in "); putdec(cycles); puts_(" TSC cycles; saw the host's increments "); putdec(interleaved); puts_(" times, ");
    putdec(close); puts_(" of them within 1024 host increments\n");

    for (uint64_t spins = 0; SHARED32(window, 0x24) == 0; spins++) {
        if (spins > SPIN_LIMIT) return fail("host never finished");
        pause();
    }
    uint64_t total = *counter, expected = done + SHARED64(window, 0x90);
    puts_("dax: counter "); putdec(total); puts_(" = guest "); putdec(done); puts_(" + host "); putdec(SHARED64(window, 0x90)); puts_("? ");
    puts_(total == expected ? "yes\n" : "no\n");
    if (total != expected) return fail("lost updates across the boundary");

    put32(in_args + 0, 1);
    put64(in_args + 4, 0);
    put64(in_args + 12, MAP_LENGTH);
    r = fuse(FUSE_REMOVEMAPPING, node, 20, 0);
    if (r < 0) return fail_errno("REMOVEMAPPING", r);
    puts_("dax: removemapping ok\n");

    memset(in_args, 0, 24);
    put64(in_args + 0, fh);
    put32(in_args + 8, 2);
    r = fuse(FUSE_RELEASE, node, 24, 0);
    if (r < 0) return fail_errno("RELEASE", r);

    if (lookup("dax-touch-after-remove", entry) >= 0) {
        puts_("dax: reading the removed range\n");
        uint64_t stale = SHARED64(window, 0x40);
        puts_("dax: FAIL the removed range still reads "); putdec(stale); putc_('\n');
        return 1;
    }
    puts_("dax: done\n");
    return 0;
}

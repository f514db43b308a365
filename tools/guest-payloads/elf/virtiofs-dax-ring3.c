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
#define MAP_LENGTH (2u << 20)
#define SPIN_LIMIT 400000000ull
#define MIN_INTERLEAVED 100
#define INCREMENT_LIMIT 500000000ull

#include "ring3-io.h"
#include "virtiofs-ring3.h"

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

#define fail fs_fail
#define fail_errno fs_fail_errno
#define SHARED64(base, off) (*(volatile uint64_t *)(uintptr_t)((base) + (off)))
#define SHARED32(base, off) (*(volatile uint32_t *)(uintptr_t)((base) + (off)))

int main(void)
{
    fs_prefix = "dax";
    struct fs_device fs = { 0 };
    if (fs_setup(BAR0_ADDRESS, SHM_ADDRESS, SHM_LIMIT, MAP_LENGTH, &fs)) return 1;
    uint64_t window = fs.window;
    puts_("dax: window: bar "); putdec((uint64_t)fs.bar); puts_(" offset "); puthex(fs.window_offset);
    puts_(" length "); puthex(fs.window_length); putc_('\n');
    puts_("dax: tag "); puts_(fs.tag); puts_(", request queues "); putdec(fs.request_queues); putc_('\n');

    /* FUSE_INIT as 6.1 sends it for `mount -t virtiofs TAG /mnt -o dax`. */
    int64_t r = fs_init_dax();
    if (r < 0) return fail_errno("INIT", r);
    uint32_t flags = fs_get32(fs_out_args + 12), alignment = fs_out_args[30] | ((uint32_t)fs_out_args[31] << 8);
    puts_("dax: init "); putdec(fs_get32(fs_out_args)); putc_('.'); putdec(fs_get32(fs_out_args + 4));
    puts_(" flags "); puthex(flags); puts_(" map_alignment "); putdec(alignment); putc_('\n');
    if (!(flags & FUSE_MAP_ALIGNMENT) || alignment > 21) return fail("server did not agree MAP_ALIGNMENT <= 21");

    uint8_t entry[128];
    r = fs_lookup("dax-shared", entry);
    if (r < 0) return fail_errno("LOOKUP dax-shared", r);
    uint64_t node = fs_get64(entry);
    puts_("dax: lookup dax-shared: node "); putdec(node); puts_(" size "); putdec(fs_get64(entry + 48));
    puts_(" blksize "); putdec(fs_get32(entry + 120)); putc_('\n');

    uint64_t fh;
    r = fs_open_rdwr(node, &fh);
    if (r < 0) return fail_errno("OPEN", r);

    /* SETUPMAPPING as 6.1 sends it from a write fault: 2 MiB chunk 0, READ|WRITE, window offset 0. */
    r = fs_map(node, MAP_LENGTH, 0);
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

    r = fs_unmap(node, MAP_LENGTH, 0);
    if (r < 0) return fail_errno("REMOVEMAPPING", r);
    puts_("dax: removemapping ok\n");

    r = fs_release(node, fh);
    if (r < 0) return fail_errno("RELEASE", r);

    if (fs_lookup("dax-touch-after-remove", entry) >= 0) {
        puts_("dax: reading the removed range\n");
        uint64_t stale = SHARED64(window, 0x40);
        puts_("dax: FAIL the removed range still reads "); putdec(stale); putc_('\n');
        return 1;
    }
    puts_("dax: done\n");
    return 0;
}

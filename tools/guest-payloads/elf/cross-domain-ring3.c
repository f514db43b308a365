/* Ring-3 cross-domain client for the kvm platform: the smallest driver that does what muvm-x11bridge does through
 * Linux's virtio-gpu DRM driver for one X11 client, to the point where the host's X server answers.
 *
 * Enumerates PCI bus 0, finds virtio-gpu (1AF4:1050), moves BAR0 into the 32-bit hole, negotiates VERSION_1 with
 * VIRGL, RESOURCE_BLOB and CONTEXT_INIT (what Linux 6.1 needs for DRM_IOCTL_VIRTGPU_CONTEXT_INIT), routes the control
 * queue's MSI-X vector 0 to IDT vector 0x40 (msix_isr in ring3-entry.S, the only ring-0 code) and waits for every
 * answer on that interrupt. Then, as the bridge does:
 *   GET_CAPSET_INFO               the device offers capset 5 (cross-domain)
 *   CTX_CREATE(context_init 5)    one context for this client
 *   RESOURCE_CREATE_BLOB(GUEST) x2, CTX_ATTACH_RESOURCE x2   the query ring and the channel ring, 4 KiB each
 *   SUBMIT_3D(INIT v1, X11)       the host connects its X server's socket
 *   SUBMIT_3D(POLL) fenced on ring 1, kept outstanding; it completes when the channel ring holds a message
 *   SUBMIT_3D(SEND)               the X11 connection setup (little-endian, protocol 11.0, no authorization)
 *   RECEIVE messages until the whole setup reply came; prints its status, version, vendor and the first screen
 * With a virtio-fs device (DAX window) on the bus as well, it then forwards a futex as libkrun's X11 passthrough does
 * for xshmfence: maps the share's "futex-page" into the DAX window (FUSE_SETUPMAPPING), exports the open file
 * (FUSE_IOCTL VIRTIO_IOC_EXPORT_FD -> {fs_id, handle}) and sends FUTEX_NEW, then, with a host thread that maps the
 * same file (offsets in it):
 *   0x00 u32 futex word
 *   0x40 u32 guest_watching  the guest waits for FUTEX_SIGNAL; the host then stores 1 in the word and FUTEX_WAKEs
 *   0x44 u32 host_waiting    the host FUTEX_WAITs on the word (value 1); the guest sends FUTEX_SIGNAL until
 *   0x48 u32 host_woken      the host's wait returned because of a wake
 *   0x4c u32 signals         how many FUTEX_SIGNALs the guest sent before that
 * then FUTEX_DESTROY, REMOVEMAPPING and RELEASE.
 *   CTX_DESTROY                   the parked POLL comes back, the host closes the socket
 * Command layouts: include/uapi/linux/virtio_gpu.h and libkrun's rutabaga cross_domain_protocol.rs (the dialect
 * plugins/Vmm.Plugins.CrossDomain speaks; see its README). Returns the exit code: 0 on success. */
#include <stdint.h>

#define COM1 0x3f8
#define MSI_VECTOR 0x40
#define BAR0_ADDRESS 0xd0000000u
#define IDT_ADDRESS 0x2000ul
#define KERNEL_CS 0x08
#define QUEUE_SIZE 8
#define CONTROL_QUEUE 0
#define SPIN_LIMIT 2000000000ull

/* virtio-gpu feature bits and commands (virtio_gpu.h). */
#define F_VIRGL 0
#define F_RESOURCE_BLOB 3
#define F_CONTEXT_INIT 4
#define CMD_GET_CAPSET_INFO 0x0108
#define CMD_RESOURCE_CREATE_BLOB 0x010c
#define CMD_CTX_CREATE 0x0200
#define CMD_CTX_DESTROY 0x0201
#define CMD_CTX_ATTACH_RESOURCE 0x0202
#define CMD_SUBMIT_3D 0x0207
#define RESP_OK_NODATA 0x1100
#define RESP_OK_CAPSET_INFO 0x1102
#define FLAG_FENCE 1u
#define FLAG_INFO_RING_IDX 2u
#define BLOB_MEM_GUEST 1u
#define BLOB_FLAG_USE_MAPPABLE 1u
#define HEADER_SIZE 24

/* Cross-domain (capset 5, libkrun's dialect). */
#define CAPSET_CROSS_DOMAIN 5
#define CD_INIT 1
#define CD_POLL 3
#define CD_SEND 4
#define CD_RECEIVE 5
#define CD_CHANNEL_X11 0x11
#define CD_SEND_DATA 352 /* after the header and 3 x 28 identifier words */
#define CONTEXT_ID 1
#define QUERY_RING_ID 1
#define CHANNEL_RING_ID 2
#define RING_SIZE 4096

#include "ring3-io.h"
#include "virtiofs-ring3.h"

#define FS_BAR0_ADDRESS 0xd1000000u
#define SHM_ADDRESS 0xd8000000u
#define SHM_LIMIT 0xe0000000u /* ECAM starts here */
#define MAP_LENGTH (2u << 20)
#define CD_FUTEX_NEW 8
#define CD_FUTEX_SIGNAL 9
#define CD_FUTEX_DESTROY 10
#define FUTEX_ID 0x42
#define SIGNAL_LIMIT 4000
#define SHARED32(base, off) (*(volatile uint32_t *)(uintptr_t)((base) + (off)))

extern void msix_isr(void);
volatile uint32_t msix_count;

/* gcc may turn loops into calls to these even when freestanding. */
void *memset(void *d, int c, unsigned long n) { uint8_t *p = d; while (n--) *p++ = (uint8_t)c; return d; }
void *memcpy(void *d, const void *s, unsigned long n) { uint8_t *p = d; const uint8_t *q = s; while (n--) *p++ = *q++; return d; }

static int fail(const char *why) { puts_("xd: FAIL "); puts_(why); putc_('\n'); return 1; }
static int fail_response(const char *command, uint32_t type) { puts_("xd: FAIL "); puts_(command); puts_(" answered "); puthex(type); putc_('\n'); return 1; }

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (i * 8)); }
static void put64(uint8_t *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (i * 8)); }
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static uint32_t get32(const uint8_t *p) { uint32_t v = 0; for (int i = 3; i >= 0; i--) v = (v << 8) | p[i]; return v; }

static struct desc descs[QUEUE_SIZE] __attribute__((aligned(16)));
static struct avail avail_ring __attribute__((aligned(2)));
static volatile struct used used_ring __attribute__((aligned(4)));
static uint64_t doorbell;
static uint16_t last_used;

/* Descriptors 0-1 carry one command at a time; 2-3 the POLL that stays parked until the channel ring has news. */
#define COMMAND_HEAD 0
#define POLL_HEAD 2
static uint8_t command[4096 + 64] __attribute__((aligned(8)));
static uint8_t response[64] __attribute__((aligned(8)));
static uint8_t poll_command[HEADER_SIZE + 8 + 16] __attribute__((aligned(8)));
static uint8_t poll_response[HEADER_SIZE] __attribute__((aligned(8)));
static int command_done, poll_done;
static uint64_t next_fence = 1;

static uint8_t query_ring[RING_SIZE] __attribute__((aligned(4096)));
static uint8_t channel_ring[RING_SIZE] __attribute__((aligned(4096)));

/* Reaps the used ring after each MSI-X interrupt until `flag` is set; answers may come back in any order. */
static int wait_for(int *flag)
{
    uint32_t seen = msix_count;
    for (uint64_t spins = 0; !*flag; spins++) {
        if (spins > SPIN_LIMIT) return 0;
        if (msix_count == seen && used_ring.idx == last_used) { __asm__ volatile("pause"); continue; }
        seen = msix_count;
        barrier();
        while (used_ring.idx != last_used) {
            uint32_t id = used_ring.ring[last_used % QUEUE_SIZE].id;
            if (id == COMMAND_HEAD) command_done = 1;
            else if (id == POLL_HEAD) poll_done = 1;
            last_used++;
        }
    }
    return 1;
}

static void post(uint16_t head)
{
    uint16_t slot = avail_ring.idx;
    avail_ring.ring[slot % QUEUE_SIZE] = head;
    barrier();
    avail_ring.idx = (uint16_t)(slot + 1);
    barrier();
    MMIO16(doorbell) = CONTROL_QUEUE;
}

static void header(uint8_t *p, uint32_t type, uint32_t flags, uint64_t fence, uint32_t context, uint8_t ring)
{
    memset(p, 0, HEADER_SIZE);
    put32(p + 0, type);
    put32(p + 4, flags);
    put64(p + 8, fence);
    put32(p + 16, context);
    p[20] = ring;
}

/* Sends command[0, length) on the control queue and waits for its answer; returns the response type (0: none). */
static uint32_t control(uint32_t length, uint32_t response_length)
{
    memset(response, 0, sizeof response);
    descs[0] = (struct desc){ (uint64_t)(uintptr_t)command, length, 1, 1 };
    descs[1] = (struct desc){ (uint64_t)(uintptr_t)response, response_length, 2, 0 };
    command_done = 0;
    post(COMMAND_HEAD);
    return wait_for(&command_done) ? get32(response) : 0;
}

/* SUBMIT_3D of a cross-domain command of `length` bytes already at command + 32. */
static uint32_t submit(uint32_t length)
{
    header(command, CMD_SUBMIT_3D, 0, 0, CONTEXT_ID, 0);
    put32(command + 24, length);
    put32(command + 28, 0);
    return control(32 + length, HEADER_SIZE);
}

/* POLL fenced on ring 1 (the channel ring), as the bridge keeps one outstanding. */
static void post_poll(void)
{
    header(poll_command, CMD_SUBMIT_3D, FLAG_FENCE | FLAG_INFO_RING_IDX, next_fence++, CONTEXT_ID, 1);
    put32(poll_command + 24, 16);
    uint8_t *poll = poll_command + 32;
    memset(poll, 0, 16);
    poll[0] = CD_POLL;
    put16(poll + 2, 16);
    descs[2] = (struct desc){ (uint64_t)(uintptr_t)poll_command, sizeof poll_command, 1, 3 };
    descs[3] = (struct desc){ (uint64_t)(uintptr_t)poll_response, sizeof poll_response, 2, 0 };
    poll_done = 0;
    post(POLL_HEAD);
}

static uint32_t create_ring(uint32_t id, uint8_t *ring)
{
    header(command, CMD_RESOURCE_CREATE_BLOB, 0, 0, 0, 0);
    put32(command + 24, id);
    put32(command + 28, BLOB_MEM_GUEST);
    put32(command + 32, BLOB_FLAG_USE_MAPPABLE);
    put32(command + 36, 1); /* nr_entries */
    put64(command + 40, 0); /* blob_id */
    put64(command + 48, RING_SIZE);
    put64(command + 56, (uint64_t)(uintptr_t)ring);
    put32(command + 64, RING_SIZE);
    put32(command + 68, 0);
    uint32_t r = control(72, HEADER_SIZE);
    if (r != RESP_OK_NODATA) return r;
    header(command, CMD_CTX_ATTACH_RESOURCE, 0, 0, CONTEXT_ID, 0);
    put32(command + 24, id);
    put32(command + 28, 0);
    return control(32, HEADER_SIZE);
}

/* Takes channel-ring messages (each answers the parked POLL, which is posted again) until a FUTEX_SIGNAL for
 * FUTEX_ID came and `done` holds; RECEIVEs in between are dropped. Returns 0 on time out. */
static int wait_for_futex_signal(volatile uint32_t *word, uint32_t expected)
{
    for (int messages = 0; messages < 64; messages++) {
        if (!wait_for(&poll_done)) return 0;
        barrier();
        int signal = channel_ring[0] == CD_FUTEX_SIGNAL && get32(channel_ring + 8) == FUTEX_ID;
        post_poll();
        if (signal && (!word || *word == expected)) return 1;
    }
    return 0;
}

static uint32_t id_command(uint8_t type, uint32_t id)
{
    uint8_t *cd = command + 32;
    memset(cd, 0, 16);
    cd[0] = type;
    put16(cd + 2, 16);
    put32(cd + 8, id);
    return submit(16);
}

/* The futex half: virtio-fs DAX maps the shared page, its export becomes a cross-domain futex, and wakes cross the
 * boundary both ways. Returns 0 on success, 1 after printing why. */
static int forward_futex(void)
{
    fs_prefix = "xd";
    struct fs_device fs = { 0 };
    if (fs_setup(FS_BAR0_ADDRESS, SHM_ADDRESS, SHM_LIMIT, MAP_LENGTH, &fs)) return 1;
    int64_t e = fs_init_dax();
    if (e < 0) return fs_fail_errno("FUSE_INIT", e);
    uint8_t entry[128];
    uint64_t fh, fs_id, handle;
    if ((e = fs_lookup("futex-page", entry)) < 0) return fs_fail_errno("LOOKUP futex-page", e);
    uint64_t node = fs_get64(entry);
    if ((e = fs_open_rdwr(node, &fh)) < 0) return fs_fail_errno("OPEN", e);
    if ((e = fs_export(node, fh, &fs_id, &handle)) < 0) return fs_fail_errno("EXPORT_FD", e);
    if ((e = fs_map(node, MAP_LENGTH, 0)) < 0) return fs_fail_errno("SETUPMAPPING", e);
    uint64_t page = fs.window;
    puts_("xd: futex-page exported as fs_id "); putdec(fs_id); puts_(" handle "); putdec(handle);
    puts_(", mapped at guest-physical "); puthex(page); putc_('\n');

    uint8_t *cd = command + 32;
    memset(cd, 0, 32);
    cd[0] = CD_FUTEX_NEW;
    put16(cd + 2, 32);
    put64(cd + 8, fs_id);
    put64(cd + 16, handle);
    put32(cd + 24, FUTEX_ID);
    uint32_t r = submit(32);
    if (r != RESP_OK_NODATA) return fail_response("FUTEX_NEW", r);
    /* The host's watcher signals once when it starts, as libkrun's does. */
    if (!wait_for_futex_signal(0, 0)) return fail("no FUTEX_SIGNAL after FUTEX_NEW");

    /* Host to guest: the host's FUTEX_WAKE on its mapping of the page reaches this context as FUTEX_SIGNAL. */
    SHARED32(page, 0x40) = 1;
    if (!wait_for_futex_signal(&SHARED32(page, 0x00), 1)) return fail("the host's futex wake never came as FUTEX_SIGNAL");
    puts_("xd: futex "); puthex(FUTEX_ID); puts_(": the host's wake came as FUTEX_SIGNAL, word "); putdec(SHARED32(page, 0x00)); putc_('\n');

    /* Guest to host: FUTEX_SIGNAL wakes the host thread waiting on the word (resent until it says it woke: the
     * first may come before it waits). */
    for (uint64_t spins = 0; SHARED32(page, 0x44) == 0; spins++) {
        if (spins > SPIN_LIMIT) return fail("the host never waited on the futex");
        __asm__ volatile("pause");
    }
    uint32_t signals = 0;
    while (SHARED32(page, 0x48) == 0) {
        if (signals == SIGNAL_LIMIT) return fail("no FUTEX_SIGNAL woke the host waiter");
        if ((r = id_command(CD_FUTEX_SIGNAL, FUTEX_ID)) != RESP_OK_NODATA) return fail_response("FUTEX_SIGNAL", r);
        signals++;
        for (int i = 0; i < 200000 && SHARED32(page, 0x48) == 0; i++) __asm__ volatile("pause");
    }
    SHARED32(page, 0x4c) = signals;
    puts_("xd: futex "); puthex(FUTEX_ID); puts_(": FUTEX_SIGNAL woke the host waiter ("); putdec(signals); puts_(" sent)\n");

    if ((r = id_command(CD_FUTEX_DESTROY, FUTEX_ID)) != RESP_OK_NODATA) return fail_response("FUTEX_DESTROY", r);
    if ((e = fs_unmap(node, MAP_LENGTH, 0)) < 0) return fs_fail_errno("REMOVEMAPPING", e);
    if ((e = fs_release(node, fh)) < 0) return fs_fail_errno("RELEASE", e);
    puts_("xd: futex destroyed, page unmapped\n");
    return 0;
}

/* The X11 connection setup reply, gathered from RECEIVE messages. */
static uint8_t reply[65536];

int main(void)
{
    int dev = -1;
    for (int d = 0; d < 32; d++) {
        if (cfg_read32(d, 0) == 0x10501af4u) { dev = d; break; }
    }
    if (dev < 0) return fail("no virtio-gpu (1af4:1050) on bus 0");
    puts_("xd: virtio-gpu at 00:"); putdec((uint64_t)dev); puts_(".0\n");

    /* Firmware's job on a PC: BAR0 into the identity-mapped 32-bit hole, decoding and bus mastering on. */
    cfg_write16(dev, 0x04, 0);
    cfg_write32(dev, 0x10, BAR0_ADDRESS | 0x4);
    cfg_write32(dev, 0x14, 0);
    cfg_write16(dev, 0x04, 0x6);
    uint64_t bar0 = (cfg_read32(dev, 0x10) & ~0xfu) | ((uint64_t)cfg_read32(dev, 0x14) << 32);
    if (bar0 != BAR0_ADDRESS) return fail("BAR0 did not move");

    uint64_t common = 0, notify = 0, config = 0;
    uint32_t multiplier = 0;
    int msix_cap = 0;
    if (!(cfg_read16(dev, 0x06) & 0x10)) return fail("no capability list");
    for (int cap = cfg_read8(dev, 0x34) & 0xfc, n = 0; cap && n < 48; cap = cfg_read8(dev, cap + 1) & 0xfc, n++) {
        uint8_t id = cfg_read8(dev, cap);
        if (id == 0x11) { msix_cap = cap; continue; }
        if (id != 0x09) continue;
        uint8_t type = cfg_read8(dev, cap + 3), bar = cfg_read8(dev, cap + 4);
        uint32_t offset = cfg_read32(dev, cap + 8);
        if (bar != 0) continue;
        if (type == 1) common = bar0 + offset;
        else if (type == 2) { notify = bar0 + offset; multiplier = cfg_read32(dev, cap + 16); }
        else if (type == 4) config = bar0 + offset;
    }
    if (!common || !notify || !config || !msix_cap) return fail("missing common/notify/device/msix capability");

    /* Features: VERSION_1 and the three a cross-domain context needs. */
    MMIO8(common + 0x14) = 0;
    if (MMIO8(common + 0x14) != 0) return fail("reset did not read back 0");
    MMIO8(common + 0x14) = 1 | 2;
    MMIO32(common + 0x00) = 0;
    uint32_t offered = MMIO32(common + 0x04);
    MMIO32(common + 0x00) = 1;
    if (!(MMIO32(common + 0x04) & 1)) return fail("device does not offer VERSION_1");
    uint32_t wanted = (1u << F_VIRGL) | (1u << F_RESOURCE_BLOB) | (1u << F_CONTEXT_INIT);
    puts_("xd: features offered "); puthex(offered); putc_('\n');
    if ((offered & wanted) != wanted) return fail("device does not offer VIRGL, RESOURCE_BLOB and CONTEXT_INIT (no context type loaded?)");
    MMIO32(common + 0x08) = 0; MMIO32(common + 0x0c) = wanted;
    MMIO32(common + 0x08) = 1; MMIO32(common + 0x0c) = 1;
    MMIO8(common + 0x14) = 1 | 2 | 8;
    if (!(MMIO8(common + 0x14) & 8)) return fail("FEATURES_OK not accepted");

    /* MSI-X: IDT gate for MSI_VECTOR -> msix_isr (ring 0), table entry 0 -> LAPIC 0 vector MSI_VECTOR, enable. */
    uint64_t handler = (uint64_t)(uintptr_t)msix_isr;
    volatile uint64_t *gate = (volatile uint64_t *)(IDT_ADDRESS + MSI_VECTOR * 16);
    gate[0] = (handler & 0xffff) | ((uint64_t)KERNEL_CS << 16) | (0x8eull << 40) | (((handler >> 16) & 0xffff) << 48);
    gate[1] = handler >> 32;
    uint32_t table = cfg_read32(dev, msix_cap + 4);
    if ((table & 7) != 0) return fail("MSI-X table not in BAR0");
    uint64_t entry = bar0 + (table & ~7u);
    MMIO32(entry + 0) = 0xfee00000u;
    MMIO32(entry + 4) = 0;
    MMIO32(entry + 8) = MSI_VECTOR;
    MMIO32(entry + 12) = 0;
    cfg_write16(dev, msix_cap + 2, (uint16_t)(cfg_read16(dev, msix_cap + 2) | 0x8000));

    MMIO16(common + 0x10) = 0xffff; /* no config-change vector */
    MMIO16(common + 0x16) = CONTROL_QUEUE;
    if (MMIO16(common + 0x18) < QUEUE_SIZE) return fail("control queue too small");
    MMIO16(common + 0x18) = QUEUE_SIZE;
    MMIO16(common + 0x1a) = 0;
    if (MMIO16(common + 0x1a) != 0) return fail("queue vector 0 refused");
    MMIO32(common + 0x20) = (uint32_t)(uintptr_t)descs; MMIO32(common + 0x24) = 0;
    MMIO32(common + 0x28) = (uint32_t)(uintptr_t)&avail_ring; MMIO32(common + 0x2c) = 0;
    MMIO32(common + 0x30) = (uint32_t)(uintptr_t)&used_ring; MMIO32(common + 0x34) = 0;
    doorbell = notify + (uint64_t)MMIO16(common + 0x1e) * multiplier;
    MMIO16(common + 0x1c) = 1;
    MMIO8(common + 0x14) = 1 | 2 | 8 | 4;

    /* The capsets the device offers (num_capsets in its config): capset 5 must be among them. */
    uint32_t capsets = MMIO32(config + 12), r;
    int found = 0;
    for (uint32_t index = 0; index < capsets && !found; index++) {
        header(command, CMD_GET_CAPSET_INFO, 0, 0, 0, 0);
        put32(command + 24, index);
        put32(command + 28, 0);
        if ((r = control(32, 40)) != RESP_OK_CAPSET_INFO) return fail_response("GET_CAPSET_INFO", r);
        puts_("xd: capset "); putdec(index); puts_(": id "); putdec(get32(response + 24)); puts_(" max version ");
        putdec(get32(response + 28)); puts_(" max size "); putdec(get32(response + 32)); putc_('\n');
        found = get32(response + 24) == CAPSET_CROSS_DOMAIN;
    }
    if (!found) return fail("no cross-domain capset (5)");

    /* CTX_CREATE with context_init = capset 5, as DRM_IOCTL_VIRTGPU_CONTEXT_INIT sends it. */
    header(command, CMD_CTX_CREATE, 0, 0, CONTEXT_ID, 0);
    put32(command + 24, 5);
    put32(command + 28, CAPSET_CROSS_DOMAIN);
    memset(command + 32, 0, 64);
    memcpy(command + 32, "ring3", 5);
    if ((r = control(96, HEADER_SIZE)) != RESP_OK_NODATA) return fail_response("CTX_CREATE", r);
    if ((r = create_ring(QUERY_RING_ID, query_ring)) != RESP_OK_NODATA) return fail_response("query ring", r);
    if ((r = create_ring(CHANNEL_RING_ID, channel_ring)) != RESP_OK_NODATA) return fail_response("channel ring", r);

    /* INIT v1: query ring, channel ring, the X11 channel, protocol_version 1. */
    uint8_t *cd = command + 32;
    memset(cd, 0, 24);
    cd[0] = CD_INIT;
    put16(cd + 2, 24);
    put32(cd + 8, QUERY_RING_ID);
    put32(cd + 12, CHANNEL_RING_ID);
    put32(cd + 16, CD_CHANNEL_X11);
    put32(cd + 20, 1);
    if ((r = submit(24)) != RESP_OK_NODATA) return fail_response("INIT", r);
    puts_("xd: context 1 on capset 5, rings attached, X11 channel open\n");
    post_poll();

    /* SEND the X11 connection setup: 'l' (little-endian), protocol 11.0, no authorization. */
    memset(cd, 0, CD_SEND_DATA + 12);
    cd[0] = CD_SEND;
    put16(cd + 2, CD_SEND_DATA + 12);
    put32(cd + 8, 0);   /* identifiers */
    put32(cd + 12, 12); /* opaque_data_size */
    uint8_t *x11 = cd + CD_SEND_DATA;
    x11[0] = 'l';
    put16(x11 + 2, 11);
    put16(x11 + 4, 0);
    if ((r = submit(CD_SEND_DATA + 12)) != RESP_OK_NODATA) return fail_response("SEND", r);
    puts_("xd: sent the X11 connection setup (12 bytes)\n");

    /* RECEIVE until the reply's 8-byte head and then its whole length came. */
    uint32_t have = 0, need = 8, messages = 0;
    while (have < need) {
        if (!wait_for(&poll_done)) return fail("the POLL fence never signalled");
        barrier();
        uint32_t size = get16(channel_ring + 2);
        if (channel_ring[0] != CD_RECEIVE || size < CD_SEND_DATA) { puts_("xd: message "); putdec(channel_ring[0]); putc_('\n'); return fail("expected RECEIVE in the channel ring"); }
        uint32_t data = get32(channel_ring + 12);
        if (data == 0) return fail("the host closed the X11 channel");
        if (data > RING_SIZE - CD_SEND_DATA || have + data > sizeof reply) return fail("RECEIVE larger than the ring");
        memcpy(reply + have, channel_ring + CD_SEND_DATA, data);
        have += data;
        messages++;
        if (have >= 8) need = 8 + 4u * get16(reply + 6);
        if (need > sizeof reply) return fail("setup reply too long");
        post_poll();
    }
    puts_("xd: setup reply: "); putdec(have); puts_(" bytes in "); putdec(messages); puts_(" RECEIVE messages\n");
    if (reply[0] != 1) return fail("the X server refused the connection");

    /* The setup reply: vendor after the 40-byte fixed part, then the pixmap formats, then the first screen. */
    uint32_t vendor_length = get16(reply + 24), formats = reply[29];
    uint32_t screen = 40 + ((vendor_length + 3) & ~3u) + 8 * formats;
    if (screen + 40 > have) return fail("setup reply shorter than its first screen");
    puts_("xd: x11 success, protocol "); putdec(get16(reply + 2)); putc_('.'); putdec(get16(reply + 4));
    puts_(", release "); putdec(get32(reply + 8)); puts_(", vendor '");
    for (uint32_t i = 0; i < vendor_length; i++) putc_((char)reply[40 + i]);
    puts_("', root "); puthex(get32(reply + screen)); puts_(" "); putdec(get16(reply + screen + 20)); putc_('x');
    putdec(get16(reply + screen + 22)); putc_('\n');

    int has_fs = 0;
    for (int d = 0; d < 32; d++) has_fs |= cfg_read32(d, 0) == 0x105a1af4u;
    if (!has_fs) puts_("xd: no virtio-fs: futex forwarding not tried\n");
    else if (forward_futex()) return 1;

    /* CTX_DESTROY: the parked POLL must come back, and the host closes the socket. */
    header(command, CMD_CTX_DESTROY, 0, 0, CONTEXT_ID, 0);
    if ((r = control(HEADER_SIZE, HEADER_SIZE)) != RESP_OK_NODATA) return fail_response("CTX_DESTROY", r);
    if (!wait_for(&poll_done)) return fail("the parked POLL did not come back after CTX_DESTROY");
    puts_("xd: context destroyed, parked poll returned; "); putdec(msix_count); puts_(" msi-x interrupts\n");
    return 0;
}

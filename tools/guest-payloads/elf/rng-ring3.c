/* Ring-3 virtio-rng driver for the kvm platform: enumerates PCI bus 0 through 0xCF8/0xCFC, finds the modern
 * virtio-rng function (1AF4:1044), moves its BAR0 into the 32-bit hole, walks the virtio vendor capabilities,
 * negotiates VERSION_1, sets up queue 0 in guest memory, routes the queue's MSI-X vector 0 to IDT vector 0x40
 * (handled by msix_isr, the only ring-0 code), kicks the doorbell, waits for the interrupt and prints
 * "rng: 16 bytes: <hex>" on COM1. Returns the exit code: 0 on success. */
#include <stdint.h>

#define COM1 0x3f8
#define MSI_VECTOR 0x40
#define BAR0_ADDRESS 0xd0000000u
#define IDT_ADDRESS 0x2000ul
#define KERNEL_CS 0x08
#define QUEUE_SIZE 8
#define RNG_BYTES 16

#include "ring3-io.h"

extern void msix_isr(void);
volatile uint32_t msix_count;

static void puthex_fixed(uint64_t v, int digits)
{
    for (int i = digits - 1; i >= 0; i--) putc_("0123456789abcdef"[(v >> (i * 4)) & 0xf]);
}
static int fail(const char *why) { puts_("rng: FAIL "); puts_(why); putc_('\n'); return 1; }

static struct desc descs[QUEUE_SIZE] __attribute__((aligned(16)));
static struct avail avail_ring __attribute__((aligned(2)));
static struct used used_ring __attribute__((aligned(4)));
static uint8_t buffer[RNG_BYTES];

int main(void)
{
    int dev = -1;
    for (int d = 0; d < 32; d++) {
        if (cfg_read32(d, 0) == 0x10441af4u) { dev = d; break; }
    }
    if (dev < 0) return fail("no virtio-rng (1af4:1044) on bus 0");
    puts_("rng: virtio-rng at 00:"); puthex_fixed((uint64_t)dev, 2); puts_(".0\n");

    /* Firmware's job on a PC: put BAR0 where this payload's identity map reaches (the 64-bit window is above 4 GiB). */
    cfg_write16(dev, 0x04, 0);
    cfg_write32(dev, 0x10, BAR0_ADDRESS | 0x4);
    cfg_write32(dev, 0x14, 0);
    cfg_write16(dev, 0x04, 0x6); /* memory decoding + bus master */
    uint64_t bar0 = (cfg_read32(dev, 0x10) & ~0xfu) | ((uint64_t)cfg_read32(dev, 0x14) << 32);
    if (bar0 != BAR0_ADDRESS) return fail("BAR0 did not move");

    uint64_t common = 0, notify = 0, isr = 0;
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
        else if (type == 3) isr = bar0 + offset;
    }
    if (!common || !notify || !isr || !msix_cap) return fail("missing common/notify/isr/msix capability");

    MMIO8(common + 0x14) = 0; /* reset */
    if (MMIO8(common + 0x14) != 0) return fail("reset did not read back 0");
    MMIO8(common + 0x14) = 1 | 2; /* ACKNOWLEDGE | DRIVER */
    MMIO32(common + 0x00) = 1;
    if (!(MMIO32(common + 0x04) & 1)) return fail("device does not offer VERSION_1");
    MMIO32(common + 0x08) = 0; MMIO32(common + 0x0c) = 0;
    MMIO32(common + 0x08) = 1; MMIO32(common + 0x0c) = 1; /* VERSION_1 only */
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
    MMIO32(entry + 12) = 0; /* unmasked */
    cfg_write16(dev, msix_cap + 2, (uint16_t)(cfg_read16(dev, msix_cap + 2) | 0x8000));

    MMIO16(common + 0x10) = 0xffff; /* no config-change vector */
    MMIO16(common + 0x16) = 0; /* queue_select */
    uint16_t max = MMIO16(common + 0x18);
    if (max < QUEUE_SIZE) return fail("queue 0 too small");
    MMIO16(common + 0x18) = QUEUE_SIZE;
    MMIO16(common + 0x1a) = 0;
    if (MMIO16(common + 0x1a) != 0) return fail("queue vector 0 refused");
    MMIO32(common + 0x20) = (uint32_t)(uintptr_t)descs; MMIO32(common + 0x24) = 0;
    MMIO32(common + 0x28) = (uint32_t)(uintptr_t)&avail_ring; MMIO32(common + 0x2c) = 0;
    MMIO32(common + 0x30) = (uint32_t)(uintptr_t)&used_ring; MMIO32(common + 0x34) = 0;
    uint16_t notify_off = MMIO16(common + 0x1e);
    MMIO16(common + 0x1c) = 1;
    MMIO8(common + 0x14) = 1 | 2 | 8 | 4; /* DRIVER_OK */

    descs[0].addr = (uint64_t)(uintptr_t)buffer;
    descs[0].len = RNG_BYTES;
    descs[0].flags = 2; /* device writes */
    avail_ring.ring[0] = 0;
    barrier();
    avail_ring.idx = 1;
    barrier();
    MMIO16(notify + (uint64_t)notify_off * multiplier) = 0; /* kick queue 0 */

    for (uint64_t spins = 0; msix_count == 0; spins++) {
        if (spins > 4000000000ull) return fail("no MSI-X interrupt");
        __asm__ volatile("pause");
    }
    barrier();
    if (used_ring.idx != 1) return fail("interrupt without a used buffer");
    uint32_t length = used_ring.ring[0].len;
    puts_("rng: msi-x vector 0x40 fired\n");
    puts_("rng: "); putdec(length); puts_(" bytes: ");
    for (uint32_t i = 0; i < length && i < RNG_BYTES; i++) puthex_fixed(buffer[i], 2);
    putc_('\n');
    return length == RNG_BYTES ? 0 : fail("short read");
}

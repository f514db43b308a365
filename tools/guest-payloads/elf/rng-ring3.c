/* Ring-3 virtio-rng driver for the kvm platform: enumerates PCI bus 0 through 0xCF8/0xCFC, finds the modern
 * virtio-rng function (1AF4:1044), moves its BAR0 into the 32-bit hole, walks the virtio vendor capabilities,
 * negotiates VERSION_1, sets up queue 0 in guest memory, routes the queue's MSI-X vector 0 to IDT vector 0x40
 * (handled by msix_isr, the only ring-0 code), kicks the doorbell, waits for the interrupt and prints
 * "rng: 16 bytes: <hex>" on COM1. Returns the exit code: 0 on success. */
#include <stdint.h>

#define COM1 0x3f8
#define MSI_VECTOR 0x40
#define BAR0_ADDRESS 0xd0000000u
#define QUEUE_SIZE 8
#define RNG_BYTES 16

#include "ring3-io.h"
#include "ring3-virtio.h"

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

#define CHECK(call) do { const char *why_ = (call); if (why_) return fail(why_); } while (0)

int main(void)
{
    int dev = virtio_find(0x10441af4u);
    if (dev < 0) return fail("no virtio-rng (1af4:1044) on bus 0");
    puts_("rng: virtio-rng at 00:"); puthex_fixed((uint64_t)dev, 2); puts_(".0\n");

    /* Firmware's job on a PC: put BAR0 where this payload's identity map reaches (the 64-bit window is above 4 GiB). */
    struct virtio_pci v;
    uint32_t offered;
    uint64_t doorbell;
    CHECK(virtio_open(dev, BAR0_ADDRESS, &v));
    CHECK(virtio_negotiate(&v, 0, &offered)); /* VERSION_1 only */
    CHECK(virtio_route_msix(&v, MSI_VECTOR, msix_isr));
    CHECK(virtio_queue(&v, 0, QUEUE_SIZE, 0, descs, &avail_ring, &used_ring, &doorbell));
    virtio_driver_ok(&v);

    descs[0].addr = (uint64_t)(uintptr_t)buffer;
    descs[0].len = RNG_BYTES;
    descs[0].flags = 2; /* device writes */
    avail_ring.ring[0] = 0;
    barrier();
    avail_ring.idx = 1;
    barrier();
    MMIO16(doorbell) = 0; /* kick queue 0 */

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

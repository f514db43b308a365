/* Ring-3 IVSHMEM guest for the kvm platform: what a Looking Glass host application does with the device, reduced to
 * the PCI and memory traffic. Enumerates PCI bus 0 through 0xCF8/0xCFC, finds IVSHMEM (1AF4:1110), checks its
 * identity (revision 1, class 0x050000, subsystem 1AF4:1100, interrupt pin 0), sizes BAR0 and BAR2 with all-ones,
 * moves them into the identity-mapped 32-bit hole (firmware's job; the platform put BAR2 in the 64-bit window above
 * 4 GiB), enables memory decoding, reads IVPosition through BAR0 (MMIO, one exit), and then works in BAR2, whose
 * accesses never exit (offsets in the shared file):
 *   0x00 u64 magic       the host writes it before the run; the guest prints it and writes its complement to 0x08
 *   0x10 u64 cycles      TSC cycles the guest took to write the pattern and the frame
 *   0x18 u32 done        the guest sets it to 1 last
 *   0x20 char[16]        marker "IVSHMEM-FRAME-64", written after the frame
 *   0x30 u32 width, height, stride, format (64, 64, 256, 'BGRA')
 *   0x1000 u32[1024]     pattern: 0xC0DE0000 | i
 *   0x10000              64x64 BGRA frame: B = 4x, G = 4y, R = 2(x + y), A = 0xFF
 * Exits through port 0x501 with 0, or prints "ivshmem: FAIL ..." and exits with 1. */
#include <stdint.h>

#define COM1 0x3f8
#define QUEUE_SIZE 1
#define BAR0_ADDRESS 0xd0000000u
#define SHM_ADDRESS 0xd8000000u
#define SHM_LIMIT 0xe0000000u /* ECAM starts here */
#define FRAME_OFFSET 0x10000u
#define FRAME_SIZE 64u

#include "ring3-io.h"

volatile uint32_t msix_count; /* ring3-entry.S's msix_isr counts here; nothing routes an interrupt to it */

static inline uint64_t rdtsc(void) { uint32_t lo, hi; __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi)); return ((uint64_t)hi << 32) | lo; }

static int fail(const char *why) { puts_("ivshmem: FAIL "); puts_(why); putc_('\n'); return 1; }

#define SHM64(off) (*(volatile uint64_t *)(uintptr_t)(SHM_ADDRESS + (off)))
#define SHM32(off) (*(volatile uint32_t *)(uintptr_t)(SHM_ADDRESS + (off)))
#define SHM8(off) (*(volatile uint8_t *)(uintptr_t)(SHM_ADDRESS + (off)))

int main(void)
{
    int dev = -1;
    for (int d = 0; d < 32; d++) {
        if (cfg_read32(d, 0) == 0x11101af4u) { dev = d; break; }
    }
    if (dev < 0) return fail("no IVSHMEM (1af4:1110) on bus 0");
    puts_("ivshmem: 1af4:1110 at 00:"); putdec((uint64_t)dev); puts_(".0\n");
    uint32_t class_rev = cfg_read32(dev, 0x08), subsystem = cfg_read32(dev, 0x2c);
    puts_("ivshmem: class/revision "); puthex(class_rev); puts_(" subsystem "); puthex(subsystem);
    puts_(" interrupt pin "); putdec(cfg_read8(dev, 0x3d)); putc_('\n');
    if (class_rev != 0x05000001u || subsystem != 0x11001af4u || cfg_read8(dev, 0x3d) != 0) return fail("not ivshmem-plain's identity");

    uint64_t placed = (cfg_read32(dev, 0x18) & ~0xfull) | ((uint64_t)cfg_read32(dev, 0x1c) << 32);
    puts_("ivshmem: platform placed BAR2 at "); puthex(placed); putc_('\n');

    /* Size both BARs as Linux does: decoding off, all-ones, read back, restore later by moving them. */
    cfg_write16(dev, 0x04, 0);
    cfg_write32(dev, 0x10, 0xffffffffu);
    uint32_t bar0_mask = cfg_read32(dev, 0x10);
    cfg_write32(dev, 0x18, 0xffffffffu);
    cfg_write32(dev, 0x1c, 0xffffffffu);
    uint32_t bar2_low = cfg_read32(dev, 0x18);
    uint64_t bar2_mask = (bar2_low & ~0xfull) | ((uint64_t)cfg_read32(dev, 0x1c) << 32);
    uint64_t bar0_size = (uint32_t)(~(bar0_mask & ~0xfu) + 1), bar2_size = ~bar2_mask + 1;
    puts_("ivshmem: BAR0 "); puthex(bar0_size); puts_(" bytes flags "); puthex(bar0_mask & 0xf);
    puts_(", BAR2 "); puthex(bar2_size); puts_(" bytes flags "); puthex(bar2_low & 0xf); putc_('\n');
    if (bar0_size != 0x100 || (bar0_mask & 0xf) != 0) return fail("BAR0 is not a 256-byte 32-bit register block");
    if ((bar2_low & 0xf) != 0xc) return fail("BAR2 is not 64-bit prefetchable memory");
    if (bar2_size < FRAME_OFFSET + FRAME_SIZE * FRAME_SIZE * 4 || bar2_size > SHM_LIMIT - SHM_ADDRESS) return fail("BAR2 does not fit the hole");

    cfg_write32(dev, 0x10, BAR0_ADDRESS);
    cfg_write32(dev, 0x18, SHM_ADDRESS | 0xc);
    cfg_write32(dev, 0x1c, 0);
    cfg_write16(dev, 0x04, 0x2); /* memory decoding */
    if ((cfg_read32(dev, 0x18) & ~0xfu) != SHM_ADDRESS || (cfg_read32(dev, 0x10) & ~0xfu) != BAR0_ADDRESS) return fail("BARs did not move");
    puts_("ivshmem: IVPosition "); putdec(MMIO32(BAR0_ADDRESS + 8)); putc_('\n');

    uint64_t magic = SHM64(0x00);
    puts_("ivshmem: host wrote "); puthex(magic); putc_('\n');
    SHM64(0x08) = ~magic;

    uint64_t start = rdtsc();
    for (uint32_t i = 0; i < 1024; i++) SHM32(0x1000 + i * 4) = 0xc0de0000u | i;
    for (uint32_t y = 0; y < FRAME_SIZE; y++) {
        for (uint32_t x = 0; x < FRAME_SIZE; x++) {
            uint32_t pixel = 0xff000000u | ((2 * (x + y)) << 16) | ((4 * y) << 8) | (4 * x);
            SHM32(FRAME_OFFSET + (y * FRAME_SIZE + x) * 4) = pixel;
        }
    }
    barrier();
    uint64_t cycles = rdtsc() - start;
    const char *marker = "IVSHMEM-FRAME-64";
    for (int i = 0; i < 16; i++) SHM8(0x20 + i) = (uint8_t)marker[i];
    SHM32(0x30) = FRAME_SIZE;
    SHM32(0x34) = FRAME_SIZE;
    SHM32(0x38) = FRAME_SIZE * 4;
    SHM32(0x3c) = 0x41524742u; /* "BGRA" */
    SHM64(0x10) = cycles;
    barrier();
    SHM32(0x18) = 1;
    puts_("ivshmem: wrote the pattern and a 64x64 frame in "); putdec(cycles); puts_(" TSC cycles\n");
    puts_("ivshmem: done\n");
    return 0;
}

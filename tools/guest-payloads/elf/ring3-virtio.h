/* A modern virtio-pci function as the ring-3 payloads bring it up: what firmware and a kernel's virtio_pci core do
 * before a driver runs. Finds the function on bus 0, moves BAR0 into the identity-mapped 32-bit hole, walks the
 * vendor capabilities (common, notify, ISR, device config in BAR0) and the MSI-X capability, negotiates features,
 * routes MSI-X table entry 0 to an IDT vector, and sets queues up. Include after ring3-io.h; each call returns 0 or
 * the reason it failed, for the payload's own "<name>: FAIL <reason>" line. */
#ifndef VMM_RING3_VIRTIO_H
#define VMM_RING3_VIRTIO_H

#include <stdint.h>

#define VIRTIO_KERNEL_CS 0x08
#define VIRTIO_IDT_ADDRESS 0x2000ul
#define VIRTIO_NO_VECTOR 0xffff

struct virtio_pci {
    int dev;
    uint64_t bar0, common, notify, isr, device;
    uint32_t notify_multiplier;
    int msix_cap;
};

/* The device number on bus 0 of the function with PCI id (device << 16 | vendor), or -1. */
static inline int virtio_find(uint32_t id)
{
    for (int d = 0; d < 32; d++) {
        if (cfg_read32(d, 0) == id) return d;
    }
    return -1;
}

/* Moves BAR0 to bar0_address (memory decoding and bus mastering on) and finds the capabilities. */
static inline const char *virtio_open(int dev, uint32_t bar0_address, struct virtio_pci *v)
{
    *v = (struct virtio_pci){ .dev = dev };
    cfg_write16(dev, 0x04, 0);
    cfg_write32(dev, 0x10, bar0_address | 0x4);
    cfg_write32(dev, 0x14, 0);
    cfg_write16(dev, 0x04, 0x6);
    v->bar0 = (cfg_read32(dev, 0x10) & ~0xfu) | ((uint64_t)cfg_read32(dev, 0x14) << 32);
    if (v->bar0 != bar0_address) return "BAR0 did not move";
    if (!(cfg_read16(dev, 0x06) & 0x10)) return "no capability list";
    for (int cap = cfg_read8(dev, 0x34) & 0xfc, n = 0; cap && n < 48; cap = cfg_read8(dev, cap + 1) & 0xfc, n++) {
        uint8_t id = cfg_read8(dev, cap);
        if (id == 0x11) { v->msix_cap = cap; continue; }
        if (id != 0x09 || cfg_read8(dev, cap + 4) != 0) continue;
        uint8_t type = cfg_read8(dev, cap + 3);
        uint64_t at = v->bar0 + cfg_read32(dev, cap + 8);
        if (type == 1) v->common = at;
        else if (type == 2) { v->notify = at; v->notify_multiplier = cfg_read32(dev, cap + 16); }
        else if (type == 3) v->isr = at;
        else if (type == 4) v->device = at;
    }
    if (!v->common || !v->notify || !v->isr || !v->msix_cap) return "missing common/notify/isr/msix capability";
    return 0;
}

/* Reset, ACKNOWLEDGE | DRIVER, VERSION_1 plus `features` (bits 0-31), FEATURES_OK. *offered gets bits 0-31 offered. */
static inline const char *virtio_negotiate(const struct virtio_pci *v, uint32_t features, uint32_t *offered)
{
    *offered = 0;
    MMIO8(v->common + 0x14) = 0;
    if (MMIO8(v->common + 0x14) != 0) return "reset did not read back 0";
    MMIO8(v->common + 0x14) = 1 | 2;
    MMIO32(v->common + 0x00) = 0;
    *offered = MMIO32(v->common + 0x04);
    MMIO32(v->common + 0x00) = 1;
    if (!(MMIO32(v->common + 0x04) & 1)) return "device does not offer VERSION_1";
    if ((*offered & features) != features) return "device does not offer the features this driver needs";
    MMIO32(v->common + 0x08) = 0; MMIO32(v->common + 0x0c) = features;
    MMIO32(v->common + 0x08) = 1; MMIO32(v->common + 0x0c) = 1;
    MMIO8(v->common + 0x14) = 1 | 2 | 8;
    if (!(MMIO8(v->common + 0x14) & 8)) return "FEATURES_OK not accepted";
    MMIO16(v->common + 0x10) = VIRTIO_NO_VECTOR; /* no config-change vector */
    return 0;
}

/* MSI-X: an IDT gate for `vector` -> isr (ring 0), table entry 0 -> LAPIC 0 `vector`, MSI-X enabled. */
static inline const char *virtio_route_msix(const struct virtio_pci *v, uint8_t vector, void (*isr)(void))
{
    uint64_t handler = (uint64_t)(uintptr_t)isr;
    volatile uint64_t *gate = (volatile uint64_t *)(VIRTIO_IDT_ADDRESS + vector * 16ul);
    gate[0] = (handler & 0xffff) | ((uint64_t)VIRTIO_KERNEL_CS << 16) | (0x8eull << 40) | (((handler >> 16) & 0xffff) << 48);
    gate[1] = handler >> 32;
    uint32_t table = cfg_read32(v->dev, v->msix_cap + 4);
    if ((table & 7) != 0) return "MSI-X table not in BAR0";
    uint64_t entry = v->bar0 + (table & ~7u);
    MMIO32(entry + 0) = 0xfee00000u;
    MMIO32(entry + 4) = 0;
    MMIO32(entry + 8) = vector;
    MMIO32(entry + 12) = 0; /* unmasked */
    cfg_write16(v->dev, v->msix_cap + 2, (uint16_t)(cfg_read16(v->dev, v->msix_cap + 2) | 0x8000));
    return 0;
}

/* Queue `index` of `size` entries on MSI-X entry `msix_entry` (VIRTIO_NO_VECTOR: polled); *doorbell gets its notify address. */
static inline const char *virtio_queue(const struct virtio_pci *v, uint16_t index, uint16_t size, uint16_t msix_entry,
                                       const void *descs, const void *avail, const volatile void *used, uint64_t *doorbell)
{
    MMIO16(v->common + 0x16) = index;
    if (MMIO16(v->common + 0x18) < size) return "queue too small";
    MMIO16(v->common + 0x18) = size;
    MMIO16(v->common + 0x1a) = msix_entry;
    if (MMIO16(v->common + 0x1a) != msix_entry) return "queue vector refused";
    MMIO32(v->common + 0x20) = (uint32_t)(uintptr_t)descs; MMIO32(v->common + 0x24) = 0;
    MMIO32(v->common + 0x28) = (uint32_t)(uintptr_t)avail; MMIO32(v->common + 0x2c) = 0;
    MMIO32(v->common + 0x30) = (uint32_t)(uintptr_t)used; MMIO32(v->common + 0x34) = 0;
    *doorbell = v->notify + (uint64_t)MMIO16(v->common + 0x1e) * v->notify_multiplier;
    MMIO16(v->common + 0x1c) = 1;
    return 0;
}

static inline void virtio_driver_ok(const struct virtio_pci *v) { MMIO8(v->common + 0x14) = 1 | 2 | 8 | 4; }

#endif

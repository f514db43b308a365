/* What every ring-3 payload for the kvm platform needs: port I/O (the payload runs with IOPL 3), the COM1 console,
 * PCI configuration through 0xCF8/0xCFC, MMIO accessors and the split-virtqueue layouts. Define COM1 and QUEUE_SIZE
 * before including it. Everything is static inline so a payload that uses part of it still builds with -Werror. */
#ifndef VMM_RING3_IO_H
#define VMM_RING3_IO_H

#include <stdint.h>

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }
static inline uint32_t inl(uint16_t port) { uint32_t v; __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint16_t inw(uint16_t port) { uint16_t v; __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint8_t inb(uint16_t port) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline void barrier(void) { __asm__ volatile("" ::: "memory"); }

static inline void putc_(char c) { outb(COM1, (uint8_t)c); }
static inline void puts_(const char *s) { while (*s) putc_(*s++); }
static inline void puthex(uint64_t v)
{
    int digits = 1;
    while (digits < 16 && (v >> (digits * 4))) digits++;
    puts_("0x");
    for (int i = digits - 1; i >= 0; i--) putc_("0123456789abcdef"[(v >> (i * 4)) & 0xf]);
}
static inline void putdec(uint64_t v)
{
    char digits[20];
    int n = 0;
    do { digits[n++] = (char)('0' + v % 10); v /= 10; } while (v);
    while (n) putc_(digits[--n]);
}

static inline uint32_t cfg_addr(int dev, int reg) { return 0x80000000u | ((uint32_t)dev << 11) | (reg & 0xfc); }
static inline uint32_t cfg_read32(int dev, int reg) { outl(0xcf8, cfg_addr(dev, reg)); return inl(0xcfc); }
static inline uint16_t cfg_read16(int dev, int reg) { outl(0xcf8, cfg_addr(dev, reg)); return inw(0xcfc + (reg & 2)); }
static inline uint8_t cfg_read8(int dev, int reg) { outl(0xcf8, cfg_addr(dev, reg)); return inb(0xcfc + (reg & 3)); }
static inline void cfg_write32(int dev, int reg, uint32_t v) { outl(0xcf8, cfg_addr(dev, reg)); outl(0xcfc, v); }
static inline void cfg_write16(int dev, int reg, uint16_t v) { outl(0xcf8, cfg_addr(dev, reg)); outw(0xcfc + (reg & 2), v); }

#define MMIO8(a) (*(volatile uint8_t *)(uintptr_t)(a))
#define MMIO16(a) (*(volatile uint16_t *)(uintptr_t)(a))
#define MMIO32(a) (*(volatile uint32_t *)(uintptr_t)(a))

struct desc { uint64_t addr; uint32_t len; uint16_t flags; uint16_t next; };
struct avail { uint16_t flags; uint16_t idx; uint16_t ring[QUEUE_SIZE]; uint16_t used_event; };
struct used_elem { uint32_t id; uint32_t len; };
struct used { uint16_t flags; uint16_t idx; struct used_elem ring[QUEUE_SIZE]; uint16_t avail_event; };

#endif

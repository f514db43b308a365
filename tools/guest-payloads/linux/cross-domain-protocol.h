/* The cross-domain protocol as the guest payloads speak it (capset 5, libkrun's dialect; plugins/Vmm.Plugins.CrossDomain
 * README), and the X11 connection setup they send through it. Shared by linux/cross-domain-x11.c (a Linux program)
 * and elf/cross-domain-ring3.c (freestanding), so only plain constants and static inline code live here. */
#ifndef VMM_CROSS_DOMAIN_PROTOCOL_H
#define VMM_CROSS_DOMAIN_PROTOCOL_H

#include <stdint.h>

#define CAPSET_CROSS_DOMAIN 5
#define CD_INIT 1
#define CD_POLL 3
#define CD_SEND 4
#define CD_RECEIVE 5
#define CD_FUTEX_NEW 8
#define CD_FUTEX_SIGNAL 9
#define CD_FUTEX_DESTROY 10
#define CD_CHANNEL_X11 0x11
#define CD_SEND_DATA 352 /* the header and 3 x 28 identifier words come first */
#define CD_RING_SIZE 4096

/* The 12-byte X11 connection setup: little-endian ('l'), protocol 11.0, no authorization. */
static inline void cd_x11_setup_request(uint8_t *p)
{
    for (int i = 0; i < 12; i++) p[i] = 0;
    p[0] = 'l';
    p[2] = 11;
}

/* The length the setup reply announces in its 8-byte head. */
static inline uint32_t cd_x11_reply_length(const uint8_t *head) { return 8u + 4u * (uint32_t)(head[6] | (head[7] << 8)); }

/* Where the first screen starts in a setup reply: the vendor after the 40-byte fixed part, then the pixmap formats. */
static inline uint32_t cd_x11_first_screen(const uint8_t *reply)
{
    uint32_t vendor_length = (uint32_t)(reply[24] | (reply[25] << 8));
    return 40u + ((vendor_length + 3u) & ~3u) + 8u * reply[29];
}

#endif

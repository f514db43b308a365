/* The shared memory: the IVSHMEM device's BAR2 found in sysfs, or a plain file for host-side tests. */
#ifndef KVMFR_CAPTURE_SHM_H
#define KVMFR_CAPTURE_SHM_H

#include <stddef.h>
#include <stdint.h>

#define IVSHMEM_VENDOR 0x1af4u
#define IVSHMEM_DEVICE 0x1110u

struct shm {
    void *base;
    size_t size;
    char path[512];            /* what was mapped */
};

/* Finds IVSHMEM devices in /sys/bus/pci/devices: writes up to max BDFs ("0000:00:03.0") and returns the count. */
int shm_find_ivshmem(char bdfs[][32], int max);
/* Maps BAR2 of the device bdf (NULL: the index-th one found) through resource2_wc, else resource2. */
int shm_open_ivshmem(struct shm *shm, const char *bdf, int index);
/* Maps a plain file; creates it with create_size bytes when it is missing or empty. */
int shm_open_file(struct shm *shm, const char *path, size_t create_size);
void shm_close(struct shm *shm);

#endif

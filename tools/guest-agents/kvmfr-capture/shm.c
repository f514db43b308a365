/* IVSHMEM discovery through sysfs (vendor 0x1af4, device 0x1110) and BAR2 mapping; or a plain file. */
#define _GNU_SOURCE
#include "shm.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define PCI_DEVICES "/sys/bus/pci/devices"

static unsigned long read_hex_file(const char *dir, const char *name)
{
    char path[512], text[32] = "";
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *file = fopen(path, "r");
    if (file == NULL) {
        return ~0ul;
    }

    if (fgets(text, sizeof text, file) == NULL) {
        text[0] = '\0';
    }

    fclose(file);
    return strtoul(text, NULL, 16);
}

static int compare_names(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

int shm_find_ivshmem(char bdfs[][32], int max)
{
    DIR *dir = opendir(PCI_DEVICES);
    if (dir == NULL) {
        return 0;
    }

    int count = 0;
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL && count < max) {
        if (entry->d_name[0] == '.') {
            continue;
        }

        char path[512];
        snprintf(path, sizeof path, "%s/%s", PCI_DEVICES, entry->d_name);
        if (strlen(entry->d_name) < 32 && read_hex_file(path, "vendor") == IVSHMEM_VENDOR && read_hex_file(path, "device") == IVSHMEM_DEVICE) {
            memcpy(bdfs[count++], entry->d_name, strlen(entry->d_name) + 1);
        }
    }

    closedir(dir);
    qsort(bdfs, (size_t)count, 32, compare_names); /* by bus address, so an index is stable */
    return count;
}

static int map_path(struct shm *shm, const char *path, int flags)
{
    int fd = open(path, flags | O_CLOEXEC);
    if (fd < 0) {
        return -errno;
    }

    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_size <= 0) {
        int error = errno ? errno : EINVAL;
        close(fd);
        return -error;
    }

    void *base = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    int error = errno;
    close(fd); /* the mapping keeps the resource */
    if (base == MAP_FAILED) {
        return -error;
    }

    shm->base = base;
    shm->size = (size_t)st.st_size;
    snprintf(shm->path, sizeof shm->path, "%s", path);
    return 0;
}

int shm_open_ivshmem(struct shm *shm, const char *bdf, int index)
{
    memset(shm, 0, sizeof *shm);
    char found[16][32];
    char chosen[32];
    if (bdf != NULL) {
        snprintf(chosen, sizeof chosen, "%s", bdf);
    } else {
        int count = shm_find_ivshmem(found, 16);
        if (count == 0) {
            fprintf(stderr, "kvmfr-capture: no IVSHMEM device (PCI %04x:%04x) in %s\n", IVSHMEM_VENDOR, IVSHMEM_DEVICE, PCI_DEVICES);
            return -1;
        }

        if (index < 0 || index >= count) {
            fprintf(stderr, "kvmfr-capture: --index %d but %d IVSHMEM device(s) found\n", index, count);
            return -1;
        }

        if (count > 1) {
            fprintf(stderr, "kvmfr-capture: %d IVSHMEM devices; using index %d (%s)\n", count, index, found[index]);
        }

        snprintf(chosen, sizeof chosen, "%s", found[index]);
    }

    char dir[256], path[512];
    snprintf(dir, sizeof dir, "%s/%s", PCI_DEVICES, chosen);
    /* Memory decoding on, in case firmware left it off; harmless when it is on. */
    snprintf(path, sizeof path, "%s/enable", dir);
    int enable = open(path, O_WRONLY | O_CLOEXEC);
    if (enable >= 0) {
        if (write(enable, "1", 1) < 0) {
            /* already enabled by a driver, or not allowed: the mapping below says what matters */
        }
        close(enable);
    }

    /* Write-combining where the BAR is prefetchable (BAR2 is), else uncached. */
    snprintf(path, sizeof path, "%s/resource2_wc", dir);
    int rc = map_path(shm, path, O_RDWR | O_SYNC);
    if (rc != 0) {
        snprintf(path, sizeof path, "%s/resource2", dir);
        rc = map_path(shm, path, O_RDWR | O_SYNC);
    }

    if (rc != 0) {
        fprintf(stderr, "kvmfr-capture: cannot map BAR2 of %s (%s): %s\n", chosen, path, strerror(-rc));
        return -1;
    }

    return 0;
}

int shm_open_file(struct shm *shm, const char *path, size_t create_size)
{
    memset(shm, 0, sizeof *shm);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0660);
    if (fd < 0) {
        fprintf(stderr, "kvmfr-capture: open %s: %s\n", path, strerror(errno));
        return -1;
    }

    struct stat st;
    if (fstat(fd, &st) == 0 && st.st_size == 0 && ftruncate(fd, (off_t)create_size) != 0) {
        fprintf(stderr, "kvmfr-capture: ftruncate %s: %s\n", path, strerror(errno));
        close(fd);
        return -1;
    }

    close(fd);
    int rc = map_path(shm, path, O_RDWR);
    if (rc != 0) {
        fprintf(stderr, "kvmfr-capture: mmap %s: %s\n", path, strerror(-rc));
        return -1;
    }

    return 0;
}

void shm_close(struct shm *shm)
{
    if (shm->base != NULL) {
        munmap(shm->base, shm->size);
    }

    memset(shm, 0, sizeof *shm);
}

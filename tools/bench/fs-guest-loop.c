/* The guest side of fs-guest-bench.sh: file-system operations timed inside a Linux guest on a virtio-fs share,
 * each a tight loop of one system call, as a metadata-heavy program (a build, an unpack) or dd makes them.
 *
 *   fs-guest-loop DIR FILES MIB
 *
 * In DIR (created): FILES creates (open O_CREAT|O_EXCL + close), stats and unlinks; a MIB MiB file written and read
 * back in 128 KiB calls (then fsync'd and dropped), and 4 KiB reads at pseudo-random offsets for as many calls as
 * FILES. One line per workload: "RESULT NAME VALUE UNIT". Built static by the bench script (gcc -static). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { ChunkBytes = 128 << 10, SmallReadBytes = 4096 };

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void fail(const char *what, const char *path)
{
    fprintf(stderr, "fs-guest-loop: %s %s: %s\n", what, path, strerror(errno));
    exit(1);
}

static void name_of(char *out, size_t size, const char *dir, int i)
{
    snprintf(out, size, "%s/f%06d", dir, i);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: fs-guest-loop DIR FILES MIB\n");
        return 2;
    }
    const char *dir = argv[1];
    int files = atoi(argv[2]);
    long mib = atol(argv[3]);
    if (files <= 0 || mib <= 0) {
        fprintf(stderr, "fs-guest-loop: FILES and MIB must be positive\n");
        return 2;
    }
    if (mkdir(dir, 0755) < 0 && errno != EEXIST)
        fail("mkdir", dir);

    char path[4096];
    double t = now();
    for (int i = 0; i < files; i++) {
        name_of(path, sizeof path, dir, i);
        int fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
        if (fd < 0)
            fail("create", path);
        close(fd);
    }
    printf("RESULT create %.1f files/s\n", files / (now() - t));

    struct stat st;
    t = now();
    for (int i = 0; i < files; i++) {
        name_of(path, sizeof path, dir, i);
        if (stat(path, &st) < 0)
            fail("stat", path);
    }
    printf("RESULT stat %.1f files/s\n", files / (now() - t));

    t = now();
    for (int i = 0; i < files; i++) {
        name_of(path, sizeof path, dir, i);
        if (unlink(path) < 0)
            fail("unlink", path);
    }
    printf("RESULT unlink %.1f files/s\n", files / (now() - t));

    char *chunk = malloc(ChunkBytes);
    if (!chunk)
        return 1;
    memset(chunk, 0x5a, ChunkBytes);
    snprintf(path, sizeof path, "%s/data", dir);
    int fd = open(path, O_CREAT | O_TRUNC | O_RDWR | O_CLOEXEC, 0644);
    if (fd < 0)
        fail("create", path);
    long chunks = mib * (1 << 20) / ChunkBytes;
    t = now();
    for (long i = 0; i < chunks; i++)
        if (write(fd, chunk, ChunkBytes) != ChunkBytes)
            fail("write", path);
    if (fsync(fd) < 0)
        fail("fsync", path);
    printf("RESULT seq-write-128k %.1f MiB/s\n", mib / (now() - t));

    t = now();
    for (long i = 0; i < chunks; i++)
        if (pread(fd, chunk, ChunkBytes, i * (off_t)ChunkBytes) != ChunkBytes)
            fail("read", path);
    printf("RESULT seq-read-128k %.1f MiB/s\n", mib / (now() - t));

    /* A fixed linear congruential sequence: the same offsets on both back-ends. */
    unsigned long long x = 12345;
    long blocks = mib * (1 << 20) / SmallReadBytes;
    t = now();
    for (int i = 0; i < files; i++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        if (pread(fd, chunk, SmallReadBytes, (off_t)((x >> 33) % (unsigned long long)blocks) * SmallReadBytes) != SmallReadBytes)
            fail("read", path);
    }
    printf("RESULT rand-read-4k %.1f reads/s\n", files / (now() - t));
    close(fd);
    unlink(path);
    rmdir(dir);
    return 0;
}

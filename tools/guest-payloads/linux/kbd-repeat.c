/*
 * kbd-repeat: sets the keyboard auto-repeat delay and period of every keyboard behind the virtual terminals
 * (the KDKBDREP ioctl, what kbdrate does), so a test typing into a slow (TCG) guest never sees a key held long
 * enough to repeat.
 *
 *   kbd-repeat DELAY_MS PERIOD_MS [TTY]     TTY defaults to /dev/tty1
 *
 * Prints "kbd-repeat: delay D ms, period P ms" with what the kernel took; exit 1 with a message on failure.
 * Build (static, for the initramfs): gcc -static -O2 -o kbd-repeat kbd-repeat.c
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: kbd-repeat DELAY_MS PERIOD_MS [TTY]\n");
        return 2;
    }

    const char *tty = argc > 3 ? argv[3] : "/dev/tty1";
    int fd = open(tty, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "kbd-repeat: open %s: %s\n", tty, strerror(errno));
        return 1;
    }

    struct kbd_repeat repeat = { .delay = atoi(argv[1]), .period = atoi(argv[2]) };
    if (ioctl(fd, KDKBDREP, &repeat) != 0) {
        fprintf(stderr, "kbd-repeat: KDKBDREP on %s: %s\n", tty, strerror(errno));
        return 1;
    }

    /* The kernel answers with the values now in effect. */
    printf("kbd-repeat: delay %d ms, period %d ms\n", repeat.delay, repeat.period);
    close(fd);
    return 0;
}

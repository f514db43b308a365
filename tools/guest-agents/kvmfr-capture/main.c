/*
 * kvmfr-capture: a Linux guest capture agent that writes the display into IVSHMEM as a Looking Glass B7 host
 * does (LGMP v6 + KVMFR v20), so looking-glass-client or our own consumer on the host can show it.
 *
 *   kvmfr-capture [--shm FILE | --device BDF | --index N] [--source drm|fbdev|auto|file:PATH:WxH]
 *                 [--fps N] [--sub-timeout MS] [--once] [-v] [--list]
 *
 * See README.md in this folder for what is supported and how it was tested.
 */
#define _GNU_SOURCE
#include "capture.h"
#include "kvmfr.h"
#include "shm.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define HEARTBEAT_MS 10
#define ONCE_TIMEOUT_MS 2000
#define FILE_SHM_SIZE (32u << 20)

static volatile sig_atomic_t stop_requested;

struct options {
    const char *shm_file;
    const char *device;
    int index;
    const char *source;
    double fps;
    int sub_timeout_ms;
    int once;
    int verbose;
};

struct agent {
    struct kvmfr_producer producer;
    struct shm shm;
    struct kvmfr_identity identity;
    pthread_mutex_t lock;      /* the heartbeat's process against a re-init */
    atomic_int corrupted;
    atomic_int heartbeat_stop;
};

static void on_signal(int signal)
{
    (void)signal;
    stop_requested = 1;
}

static void usage(FILE *out)
{
    fprintf(out,
        "usage: kvmfr-capture [--shm FILE | --device BDF | --index N] [--source drm|fbdev|auto|file:PATH:WxH]\n"
        "                     [--fps N] [--sub-timeout MS] [--once] [-v] [--list]\n"
        "  --shm FILE     use a plain file (created with 32 MiB when missing) instead of the IVSHMEM BAR2\n"
        "  --device BDF   the IVSHMEM device at this PCI address (e.g. 0000:00:03.0)\n"
        "  --index N      the N-th IVSHMEM device by PCI address (default 0)\n"
        "  --source S     drm (active CRTC), fbdev (/dev/fb0), auto (drm, else fbdev; default), or\n"
        "                 file:PATH:WxH (raw BGRA re-read every frame)\n"
        "  --fps N        frame rate cap (default 30)\n"
        "  --sub-timeout MS  how long a client may hold a message before it is dropped (default 1000, as\n"
        "                 Looking Glass; more helps slow clients such as a cold llvmpipe start)\n"
        "  --once         capture one frame, wait until a subscriber has taken it or 2 s, exit\n"
        "  -v             a line per posted frame\n"
        "  --list         list IVSHMEM devices and exit\n");
}

static int parse(int argc, char **argv, struct options *options)
{
    *options = (struct options){ .index = 0, .source = "auto", .fps = 30 };
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            usage(stdout);
            exit(0);
        } else if (strcmp(arg, "-v") == 0) {
            options->verbose = 1;
        } else if (strcmp(arg, "--once") == 0) {
            options->once = 1;
        } else if (strcmp(arg, "--list") == 0) {
            char bdfs[16][32];
            int count = shm_find_ivshmem(bdfs, 16);
            for (int d = 0; d < count; d++) {
                printf("%d %s\n", d, bdfs[d]);
            }
            exit(count > 0 ? 0 : 1);
        } else if (value != NULL && strcmp(arg, "--shm") == 0) {
            options->shm_file = value;
            i++;
        } else if (value != NULL && strcmp(arg, "--device") == 0) {
            options->device = value;
            i++;
        } else if (value != NULL && strcmp(arg, "--index") == 0) {
            options->index = atoi(value);
            i++;
        } else if (value != NULL && strcmp(arg, "--source") == 0) {
            options->source = value;
            i++;
        } else if (value != NULL && strcmp(arg, "--sub-timeout") == 0) {
            options->sub_timeout_ms = atoi(value);
            i++;
        } else if (value != NULL && strcmp(arg, "--fps") == 0) {
            options->fps = atof(value);
            i++;
        } else {
            fprintf(stderr, "kvmfr-capture: bad argument '%s'\n", arg);
            usage(stderr);
            return -1;
        }
    }

    if (options->sub_timeout_ms == 0) {
        options->sub_timeout_ms = KVMFR_SUB_TIMEOUT_MS;
    } else if (options->sub_timeout_ms < 100 || options->sub_timeout_ms > 60000) {
        fprintf(stderr, "kvmfr-capture: --sub-timeout must be 100..60000 ms\n");
        return -1;
    }

    if (options->fps <= 0 || options->fps > 1000) {
        fprintf(stderr, "kvmfr-capture: --fps must be in (0, 1000]\n");
        return -1;
    }

    return 0;
}

static void sleep_ms(double ms)
{
    if (ms <= 0) {
        return;
    }

    struct timespec ts = { .tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)((ms - (double)(time_t)(ms / 1000) * 1000) * 1e6) };
    nanosleep(&ts, NULL); /* a signal ends it early, which is what we want */
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* The heartbeat: the timestamp every 10 ms, retiring messages, timing out subscribers. */
static void *heartbeat(void *arg)
{
    struct agent *agent = arg;
    while (!atomic_load(&agent->heartbeat_stop)) {
        pthread_mutex_lock(&agent->lock);
        if (!atomic_load(&agent->corrupted) && lgmp_host_process(&agent->producer.host) == LGMP_ERR_CORRUPTED) {
            atomic_store(&agent->corrupted, 1);
        }
        pthread_mutex_unlock(&agent->lock);
        sleep_ms(HEARTBEAT_MS);
    }

    return NULL;
}

/* Keeps the client's cursor in step with the source's; without a cursor plane the cursor stays hidden. */
struct cursor_state {
    int known, visible;
    int16_t x, y;
    uint32_t serial;
};

static void update_cursor(struct agent *agent, struct capture *capture, struct cursor_state *last)
{
    struct capture_cursor cursor;
    if (capture->cursor == NULL || capture->cursor(capture, &cursor) != 1) {
        return;
    }

    if (cursor.visible && (!last->known || !last->visible || cursor.shape_serial != last->serial)) {
        kvmfr_post_cursor_shape(&agent->producer, cursor.bgra, cursor.width, cursor.height, cursor.x, cursor.y, 0, 0);
    } else if (cursor.visible && (cursor.x != last->x || cursor.y != last->y)) {
        kvmfr_post_cursor_move(&agent->producer, cursor.x, cursor.y, 1);
    } else if (!cursor.visible && (!last->known || last->visible)) {
        kvmfr_post_cursor_hidden(&agent->producer);
    }

    *last = (struct cursor_state){ 1, cursor.visible, cursor.x, cursor.y, cursor.shape_serial };
}

int main(int argc, char **argv)
{
    struct options options;
    if (parse(argc, argv, &options) != 0) {
        return 2;
    }

    setvbuf(stdout, NULL, _IOLBF, 0);
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_signal;
    sigaction(SIGTERM, &action, NULL);
    sigaction(SIGINT, &action, NULL);
    signal(SIGPIPE, SIG_IGN);

    static struct agent agent;
    pthread_mutex_init(&agent.lock, NULL);
    int rc = options.shm_file != NULL ? shm_open_file(&agent.shm, options.shm_file, FILE_SHM_SIZE)
        : shm_open_ivshmem(&agent.shm, options.device, options.index);
    if (rc != 0) {
        return 1;
    }

    if (agent.shm.size > UINT32_MAX) {
        fprintf(stderr, "kvmfr-capture: %s is %zu bytes; LGMP addresses at most 4 GiB - 1\n", agent.shm.path, agent.shm.size);
        return 1;
    }

    static struct capture capture;
    if (capture_open(&capture, options.source, options.verbose) != 0) {
        return 1;
    }

    agent.identity.capture = capture.name;
    agent.identity.sub_timeout_ms = (uint32_t)options.sub_timeout_ms;
    if (kvmfr_producer_init(&agent.producer, agent.shm.base, (uint32_t)agent.shm.size, &agent.identity) != 0) {
        return 1;
    }

    printf("kvmfr-capture: %s, %zu MiB, session %08x, source %s, frame buffers of %u bytes, %.0f fps cap\n",
        agent.shm.path, agent.shm.size >> 20, agent.producer.host.header->session_id, capture.name,
        agent.producer.max_frame_size, options.fps);

    pthread_t heartbeat_thread;
    if (pthread_create(&heartbeat_thread, NULL, heartbeat, &agent) != 0) {
        fprintf(stderr, "kvmfr-capture: cannot start the heartbeat thread\n");
        return 1;
    }

    kvmfr_post_cursor_hidden(&agent.producer); /* until a cursor plane shows one (reaches current subscribers) */
    uint8_t *previous = NULL;
    size_t previous_capacity = 0;
    uint32_t previous_width = 0, previous_height = 0;
    struct damage_map changed = { 0 };
    struct cursor_state cursor = { 0 };
    int frame_repost_pending = 0;
    unsigned long posted_frames = 0, captured = 0, reposts = 0;
    double period = 1000.0 / options.fps, next_capture = now_ms(), started = next_capture;
    double once_deadline = 0;
    int once_delivered = 0;
    int status = 0;

    while (!stop_requested) {
        if (atomic_load(&agent.corrupted)) {
            /* Someone zeroed or overwrote the header (e.g. the shm was recreated): start a new session. */
            pthread_mutex_lock(&agent.lock);
            int failed = kvmfr_producer_init(&agent.producer, agent.shm.base, (uint32_t)agent.shm.size, &agent.identity);
            atomic_store(&agent.corrupted, 0);
            pthread_mutex_unlock(&agent.lock);
            if (failed) {
                status = 1;
                break;
            }

            fprintf(stderr, "kvmfr-capture: shared memory header was lost; new session %08x\n",
                agent.producer.host.header->session_id);
            previous_width = previous_height = 0;
            cursor.known = 0;
        }

        /* New subscribers only see later messages: give them the last frame and the cursor again. */
        if (lgmp_host_new_subs(agent.producer.frame_queue) > 0) {
            frame_repost_pending = 1;
        }

        if (frame_repost_pending) {
            if (agent.producer.last_buffer < 0) {
                frame_repost_pending = 0; /* no frame yet: the first one reaches them anyway */
            } else if (kvmfr_frame_slot_free(&agent.producer)) {
                int reposted = kvmfr_repost_frame(&agent.producer) > 0;
                reposts += (unsigned long)reposted;
                once_delivered |= reposted;
                frame_repost_pending = 0;
            }
        }

        if (lgmp_host_new_subs(agent.producer.pointer_queue) > 0) {
            kvmfr_repost_cursor(&agent.producer);
        }

        double now = now_ms();
        if (options.once && once_deadline > 0) {
            if (once_delivered && lgmp_host_pending(agent.producer.frame_queue) == 0) {
                break;
            }

            if (now >= once_deadline) {
                fprintf(stderr, "kvmfr-capture: --once: no subscriber took the frame within 2 s\n");
                break;
            }

            if (lgmp_host_pending(agent.producer.frame_queue) > 0) {
                once_delivered = 1;
            }

            sleep_ms(1);
            continue;
        }

        if (now < next_capture) {
            sleep_ms(next_capture - now < 5 ? next_capture - now : 5);
            continue;
        }

        next_capture += period;
        if (next_capture < now) {
            next_capture = now; /* fell behind (slow capture): do not try to catch up */
        }

        int grabbed = capture.grab(&capture);
        if (grabbed < 0) {
            status = 1;
            break;
        }

        update_cursor(&agent, &capture, &cursor);
        if (grabbed == 0) {
            continue; /* no framebuffer right now: keep the heartbeat, try again */
        }

        captured++;
        const struct damage_map *damage = NULL;
        if (capture.width == previous_width && capture.height == previous_height && previous != NULL) {
            if (damage_compare(&changed, capture.pixels, previous, capture.width, capture.height) == 0) {
                continue; /* nothing changed: post nothing, the heartbeat goes on */
            }

            damage = &changed;
        } else if (damage_resize(&changed, capture.width, capture.height) != 0) {
            status = 1;
            break;
        }

        /* Buffer next is rewritten only once everyone has released it. */
        while (!kvmfr_frame_slot_free(&agent.producer) && !stop_requested && !atomic_load(&agent.corrupted)) {
            sleep_ms(0.2);
        }

        if (stop_requested || atomic_load(&agent.corrupted)) {
            continue;
        }

        int posted = kvmfr_post_frame(&agent.producer, &(struct kvmfr_image){ capture.width, capture.height, capture.pixels },
            damage, options.verbose);
        if (posted < 0) {
            status = 1;
            break;
        }

        posted_frames += (unsigned long)posted;
        size_t bytes = (size_t)capture.width * capture.height * 4;
        if (bytes > previous_capacity) {
            uint8_t *grown = realloc(previous, bytes);
            if (grown == NULL) {
                status = 1;
                break;
            }

            previous = grown;
            previous_capacity = bytes;
        }

        memcpy(previous, capture.pixels, bytes);
        previous_width = capture.width;
        previous_height = capture.height;
        if (options.once) {
            once_deadline = now_ms() + ONCE_TIMEOUT_MS;
            once_delivered = posted > 0;
        }
    }

    atomic_store(&agent.heartbeat_stop, 1);
    pthread_join(heartbeat_thread, NULL);
    double seconds = (now_ms() - started) / 1000.0;
    printf("kvmfr-capture: exit after %.1f s: %lu frames captured, %lu posted (%.2f posted/s), %lu re-posted for new subscribers\n",
        seconds, captured, posted_frames, seconds > 0 ? (double)posted_frames / seconds : 0.0, reposts);
    free(previous);
    damage_free(&changed);
    kvmfr_producer_free(&agent.producer);
    capture_close(&capture);
    shm_close(&agent.shm);
    return status;
}

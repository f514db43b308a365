/* A small xcb client for the cross-domain X11 tests and benchmark (built by XClientBuilder with gcc).
 *   draw <core|sysv|fd> W H X Y   window at X,Y, a test pattern put by core PutImage or MIT-SHM (SysV ShmAttach or
 *                                 memfd ShmAttachFd); prints "drawn <window>" and keeps it until stdin closes
 *   events W H X Y                window selecting KeyPress|ButtonPress; prints "ready <window>", then
 *                                 "key <keycode>" / "button <n>" per event, until both came
 *   rtt N                         N GetInputFocus round trips; prints "seconds <s>"
 *   put <core|sysv|fd> W H N      N PutImage of WxH to a pixmap, a round trip every 8; prints "seconds <s>"
 * The pattern: pixel (x, y) = 0x00RRGGBB with R = x*4, G = y*5, B = 0x40 (low bytes). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <xcb/xcb.h>
#include <xcb/shm.h>

static uint32_t pattern(int x, int y) { return ((uint32_t)(x * 4) & 0xff) << 16 | ((uint32_t)(y * 5) & 0xff) << 8 | 0x40; }

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }

static void fail(const char *what) { fprintf(stderr, "x11-probe: %s\n", what); exit(2); }

typedef struct { xcb_shm_seg_t seg; uint8_t *pixels; } shm_image;

/* Attaches a segment of size bytes by SysV id or by memfd (ShmAttachFd). */
static shm_image attach(xcb_connection_t *c, const char *mode, size_t size) {
    shm_image image = { xcb_generate_id(c), NULL };
    const xcb_query_extension_reply_t *ext = xcb_get_extension_data(c, &xcb_shm_id);
    if (!ext || !ext->present) fail("no MIT-SHM");
    if (strcmp(mode, "sysv") == 0) {
        int id = shmget(IPC_PRIVATE, size, IPC_CREAT | 0600);
        if (id < 0) fail("shmget");
        image.pixels = shmat(id, NULL, 0);
        xcb_generic_error_t *error = xcb_request_check(c, xcb_shm_attach_checked(c, image.seg, id, 0));
        shmctl(id, IPC_RMID, NULL);
        if (error) fail("ShmAttach refused");
    } else {
        int fd = memfd_create("x11-probe", MFD_CLOEXEC);
        if (fd < 0 || ftruncate(fd, size) != 0) fail("memfd");
        image.pixels = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        xcb_generic_error_t *error = xcb_request_check(c, xcb_shm_attach_fd_checked(c, image.seg, fd, 0));
        if (error) fail("ShmAttachFd refused");
    }
    return image;
}

static void fill(uint8_t *pixels, int w, int h) {
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            ((uint32_t *)pixels)[y * w + x] = pattern(x, y);
}

static void put(xcb_connection_t *c, const char *mode, xcb_drawable_t target, xcb_gcontext_t gc, int w, int h, shm_image *shm, uint8_t *core) {
    if (strcmp(mode, "core") == 0) {
        /* Core PutImage in bands that fit the maximum request length. */
        int band = (int)((xcb_get_maximum_request_length(c) * 4 - 64) / (w * 4));
        for (int y = 0; y < h; y += band) {
            int rows = h - y < band ? h - y : band;
            xcb_put_image(c, XCB_IMAGE_FORMAT_Z_PIXMAP, target, gc, w, rows, 0, y, 0, 24, w * 4 * rows, core + (size_t)y * w * 4);
        }
    } else {
        xcb_shm_put_image(c, target, gc, w, h, 0, 0, w, h, 0, 0, 24, XCB_IMAGE_FORMAT_Z_PIXMAP, 0, shm->seg, 0);
    }
}

static void sync_round_trip(xcb_connection_t *c) { free(xcb_get_input_focus_reply(c, xcb_get_input_focus(c), NULL)); }

int main(int argc, char **argv) {
    if (argc < 3) fail("usage: draw|events|rtt|put ...");
    xcb_connection_t *c = xcb_connect(NULL, NULL);
    if (xcb_connection_has_error(c)) fail("cannot connect");
    xcb_screen_t *screen = xcb_setup_roots_iterator(xcb_get_setup(c)).data;
    const char *verb = argv[1];
    setvbuf(stdout, NULL, _IOLBF, 0);

    if (strcmp(verb, "rtt") == 0) {
        int n = atoi(argv[2]);
        sync_round_trip(c);
        double start = now();
        for (int i = 0; i < n; i++) sync_round_trip(c);
        printf("seconds %.9f\n", now() - start);
        return 0;
    }

    if (strcmp(verb, "put") == 0 || strcmp(verb, "draw") == 0) {
        const char *mode = argv[2];
        int w = atoi(argv[3]), h = atoi(argv[4]);
        size_t size = (size_t)w * h * 4;
        shm_image shm = { 0, NULL };
        uint8_t *core = NULL;
        if (strcmp(mode, "core") == 0) core = malloc(size); else shm = attach(c, mode, size);
        fill(core ? core : shm.pixels, w, h);
        xcb_drawable_t target;
        if (strcmp(verb, "draw") == 0) {
            target = xcb_generate_id(c);
            uint32_t values[] = { screen->black_pixel, 1 };
            xcb_create_window(c, XCB_COPY_FROM_PARENT, target, screen->root, atoi(argv[5]), atoi(argv[6]), w, h, 0,
                XCB_WINDOW_CLASS_INPUT_OUTPUT, screen->root_visual, XCB_CW_BACK_PIXEL | XCB_CW_OVERRIDE_REDIRECT, values);
            xcb_map_window(c, target);
        } else {
            target = xcb_generate_id(c);
            xcb_create_pixmap(c, 24, target, screen->root, w, h);
        }
        xcb_gcontext_t gc = xcb_generate_id(c);
        xcb_create_gc(c, gc, target, 0, NULL);
        sync_round_trip(c);
        if (strcmp(verb, "draw") == 0) {
            put(c, mode, target, gc, w, h, &shm, core);
            sync_round_trip(c);
            printf("drawn 0x%x\n", target);
            char buffer[16];
            while (read(0, buffer, sizeof buffer) > 0) { }
            return 0;
        }
        int n = atoi(argv[5]);
        double start = now();
        for (int i = 0; i < n; i++) {
            put(c, mode, target, gc, w, h, &shm, core);
            if (i % 8 == 7) sync_round_trip(c);
        }
        sync_round_trip(c);
        printf("seconds %.9f\n", now() - start);
        return 0;
    }

    if (strcmp(verb, "events") == 0) {
        int w = atoi(argv[2]), h = atoi(argv[3]);
        xcb_window_t window = xcb_generate_id(c);
        uint32_t values[] = { screen->white_pixel, 1, XCB_EVENT_MASK_KEY_PRESS | XCB_EVENT_MASK_BUTTON_PRESS };
        xcb_create_window(c, XCB_COPY_FROM_PARENT, window, screen->root, atoi(argv[4]), atoi(argv[5]), w, h, 0,
            XCB_WINDOW_CLASS_INPUT_OUTPUT, screen->root_visual, XCB_CW_BACK_PIXEL | XCB_CW_OVERRIDE_REDIRECT | XCB_CW_EVENT_MASK, values);
        xcb_map_window(c, window);
        sync_round_trip(c);
        printf("ready 0x%x\n", window);
        int keys = 0, buttons = 0;
        xcb_generic_event_t *event;
        while ((keys == 0 || buttons == 0) && (event = xcb_wait_for_event(c))) {
            uint8_t type = event->response_type & 0x7f;
            if (type == XCB_KEY_PRESS) { printf("key %u\n", ((xcb_key_press_event_t *)event)->detail); keys++; }
            if (type == XCB_BUTTON_PRESS) { printf("button %u\n", ((xcb_button_press_event_t *)event)->detail); buttons++; }
            free(event);
        }
        return 0;
    }
    fail("unknown verb");
}

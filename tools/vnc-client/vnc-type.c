/*
 * vnc-type: a real VNC client (LibVNCClient) for the Vmm tests. It connects, waits for the first framebuffer
 * update, and then either types one string (one-shot) or takes commands on stdin while it stays connected.
 *
 *   vnc-type HOST PORT TEXT    type TEXT then Return, exit 0
 *   vnc-type HOST PORT         stay connected; stdin commands, one a line:
 *                                type TEXT   type TEXT then Return; answers "typed N" (N key strokes)
 *                                size        answers "size WxH" (the desktop as this client knows it)
 *                                quit        exit 0
 *
 * stdout, one event a line: "connected WxH" after the handshake, "ready" after the first framebuffer update,
 * "resize WxH" for every desktop resize the server announces (DesktopSize, canHandleNewFBSize), and
 * "disconnected" (exit 1) when the server drops the connection. Keys go as X11 keysyms on a US layout: a
 * character that needs Shift is sent inside Shift_L down/up, as a person's keyboard would.
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <rfb/rfbclient.h>

#define XK_RETURN 0xff0d
#define XK_SHIFT_L 0xffe1

static int s_sized;
static int s_updated;

static rfbBool allocate_framebuffer(rfbClient *client)
{
    size_t bytes = (size_t)client->width * (size_t)client->height * (size_t)(client->format.bitsPerPixel / 8);
    free(client->frameBuffer);
    client->frameBuffer = malloc(bytes == 0 ? 1 : bytes);
    if (client->frameBuffer == NULL) {
        return FALSE;
    }

    /* The first call is the handshake's size; later ones are resizes. */
    printf("%s %dx%d\n", s_sized ? "resize" : "connected", client->width, client->height);
    s_sized = 1;
    return TRUE;
}

static void framebuffer_updated(rfbClient *client, int x, int y, int w, int h)
{
    (void)client; (void)x; (void)y; (void)w; (void)h;
    if (!s_updated) {
        s_updated = 1;
        printf("ready\n");
    }
}

static int needs_shift(char c)
{
    return (c >= 'A' && c <= 'Z') || (c != '\0' && strchr("~!@#$%^&*()_+{}|:\"<>?", c) != NULL);
}

static int key(rfbClient *client, uint32_t keysym)
{
    if (!SendKeyEvent(client, keysym, TRUE) || !SendKeyEvent(client, keysym, FALSE)) {
        return -1;
    }

    /* A pause between strokes, as a (fast) typist: a slow guest then never sees a key held long enough to repeat. */
    usleep(30 * 1000);
    return 0;
}

static int type_text(rfbClient *client, const char *text)
{
    int strokes = 0;
    for (const char *p = text; *p != '\0'; p++) {
        unsigned char c = (unsigned char)*p;
        if (c < 0x20 || c > 0x7e) {
            continue;
        }

        int shift = needs_shift((char)c);
        if (shift && !SendKeyEvent(client, XK_SHIFT_L, TRUE)) {
            return -1;
        }

        if (key(client, c) != 0) {
            return -1;
        }

        if (shift && !SendKeyEvent(client, XK_SHIFT_L, FALSE)) {
            return -1;
        }

        strokes++;
    }

    if (key(client, XK_RETURN) != 0) {
        return -1;
    }

    return strokes + 1;
}

/* Reads what the server sent within timeout_us; -1 when the connection is gone. */
static int pump(rfbClient *client, unsigned int timeout_us)
{
    int n = WaitForMessage(client, timeout_us);
    if (n < 0) {
        return -1;
    }

    if (n > 0 && !HandleRFBServerMessage(client)) {
        return -1;
    }

    return 0;
}

static int disconnected(rfbClient *client)
{
    printf("disconnected\n");
    rfbClientCleanup(client);
    return 1;
}

int main(int argc, char **argv)
{
    if (argc != 3 && argc != 4) {
        fprintf(stderr, "usage: vnc-type HOST PORT [TEXT]\n");
        return 2;
    }

    setvbuf(stdout, NULL, _IOLBF, 0);
    rfbClient *client = rfbGetClient(8, 3, 4);
    client->canHandleNewFBSize = TRUE;
    client->MallocFrameBuffer = allocate_framebuffer;
    client->GotFrameBufferUpdate = framebuffer_updated;
    client->serverHost = strdup(argv[1]);
    client->serverPort = atoi(argv[2]);
    client->appData.encodingsString = "raw copyrect";
    if (!rfbInitClient(client, NULL, NULL)) {
        /* rfbInitClient frees the client when it fails. */
        fprintf(stderr, "vnc-type: cannot connect to %s:%s\n", argv[1], argv[2]);
        return 1;
    }

    while (!s_updated) {
        if (pump(client, 100 * 1000) != 0) {
            return disconnected(client);
        }
    }

    if (argc == 4) {
        int strokes = type_text(client, argv[3]);
        if (strokes < 0) {
            return disconnected(client);
        }

        printf("typed %d\n", strokes);
        rfbClientCleanup(client);
        return 0;
    }

    char line[4096];
    size_t used = 0;
    for (;;) {
        if (pump(client, 50 * 1000) != 0) {
            return disconnected(client);
        }

        struct pollfd input = { .fd = STDIN_FILENO, .events = POLLIN };
        if (poll(&input, 1, 0) <= 0) {
            continue;
        }

        ssize_t got = read(STDIN_FILENO, line + used, sizeof line - 1 - used);
        if (got <= 0) {
            /* stdin closed: the test is gone, so are we. */
            rfbClientCleanup(client);
            return 0;
        }

        used += (size_t)got;
        line[used] = '\0';
        char *newline;
        while ((newline = strchr(line, '\n')) != NULL) {
            *newline = '\0';
            if (strncmp(line, "type ", 5) == 0) {
                int strokes = type_text(client, line + 5);
                if (strokes < 0) {
                    return disconnected(client);
                }

                printf("typed %d\n", strokes);
            } else if (strcmp(line, "size") == 0) {
                printf("size %dx%d\n", client->width, client->height);
            } else if (strcmp(line, "quit") == 0) {
                rfbClientCleanup(client);
                return 0;
            } else {
                printf("unknown %s\n", line);
            }

            size_t consumed = (size_t)(newline - line) + 1;
            memmove(line, newline + 1, used - consumed + 1);
            used -= consumed;
        }

        if (used == sizeof line - 1) {
            used = 0; /* a line longer than the buffer: drop it */
        }
    }
}

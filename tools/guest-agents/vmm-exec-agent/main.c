/* vmm-exec-agent: runs commands for `vmm exec` (the host) over virtio-vsock. One connection per command; a forked
 * handler per connection, so several commands run at once. Protocol: protocol.h and README.md. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

#include "protocol.h"

#define MAX_ARGS 256
#define MAX_ENV 256

struct request {
    char *argv[MAX_ARGS + 1];
    int argc;
    char *env[MAX_ENV + 1];
    int envc;
    const char *cwd;
    long uid, gid;
    int tty;
    unsigned rows, cols;
};

static int write_all(int fd, const void *data, size_t length)
{
    const char *p = data;
    while (length > 0) {
        ssize_t n = write(fd, p, length);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        length -= (size_t)n;
    }
    return 0;
}

static int read_all(int fd, void *data, size_t length)
{
    char *p = data;
    while (length > 0) {
        ssize_t n = read(fd, p, length);
        if (n == 0)
            return -1;
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        length -= (size_t)n;
    }
    return 0;
}

static int send_frame(int fd, uint8_t type, uint8_t stream, const void *payload, uint32_t length)
{
    struct exec_frame_header h = { .length = length, .type = type, .stream = stream, .reserved = 0 };
    if (write_all(fd, &h, sizeof h) < 0)
        return -1;
    return length ? write_all(fd, payload, length) : 0;
}

static void send_error(int fd, const char *format, ...)
{
    char message[512];
    va_list args;
    va_start(args, format);
    int n = vsnprintf(message, sizeof message, format, args);
    va_end(args);
    if (n < 0)
        n = 0;
    if ((size_t)n >= sizeof message)
        n = sizeof message - 1;
    send_frame(fd, EXEC_ERROR, 0, message, (uint32_t)n);
}

/* Reads one frame; the payload lands in buffer (EXEC_MAX_PAYLOAD bytes). */
static int read_frame(int fd, struct exec_frame_header *h, char *buffer)
{
    if (read_all(fd, h, sizeof *h) < 0)
        return -1;
    if (h->length > EXEC_MAX_PAYLOAD)
        return -2;
    return h->length ? read_all(fd, buffer, h->length) : 0;
}

static int parse_start(char *payload, uint32_t length, struct request *r, const char **problem)
{
    memset(r, 0, sizeof *r);
    r->uid = -1;
    r->gid = -1;
    if (length == 0 || payload[length - 1] != '\0') {
        *problem = "START records must each end with NUL";
        return -1;
    }
    for (char *p = payload; p < payload + length; p += strlen(p) + 1) {
        if (!strncmp(p, "arg=", 4)) {
            if (r->argc == MAX_ARGS) { *problem = "too many arguments"; return -1; }
            r->argv[r->argc++] = p + 4;
        } else if (!strncmp(p, "env=", 4)) {
            if (r->envc == MAX_ENV || !strchr(p + 4, '=')) { *problem = "bad or too many env records"; return -1; }
            r->env[r->envc++] = p + 4;
        } else if (!strncmp(p, "cwd=", 4)) {
            r->cwd = p + 4;
        } else if (!strncmp(p, "uid=", 4)) {
            r->uid = strtol(p + 4, NULL, 10);
        } else if (!strncmp(p, "gid=", 4)) {
            r->gid = strtol(p + 4, NULL, 10);
        } else if (!strcmp(p, "tty=1")) {
            r->tty = 1;
        } else if (!strncmp(p, "rows=", 5)) {
            r->rows = (unsigned)strtoul(p + 5, NULL, 10);
        } else if (!strncmp(p, "cols=", 5)) {
            r->cols = (unsigned)strtoul(p + 5, NULL, 10);
        } else {
            *problem = "unknown START record";
            return -1;
        }
    }
    if (r->argc == 0) {
        *problem = "no command (arg= records)";
        return -1;
    }
    return 0;
}

/* The child side: becomes the command. Reports a failure through report_fd (close-on-exec) and exits 127. */
static void become_command(const struct request *r, int in_fd, int out_fd, int err_fd, int report_fd)
{
    setsid();
    if (r->tty && ioctl(in_fd, TIOCSCTTY, 0) < 0)
        goto fail;
    if (dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0)
        goto fail;
    for (int i = 0; i < r->envc; i++)
        putenv(r->env[i]);
    if (r->cwd && chdir(r->cwd) < 0)
        goto fail;
    if (r->gid >= 0 && (setgroups(0, NULL) < 0 || setgid((gid_t)r->gid) < 0))
        goto fail;
    if (r->uid >= 0 && setuid((uid_t)r->uid) < 0)
        goto fail;
    signal(SIGPIPE, SIG_DFL);
    signal(SIGCHLD, SIG_DFL);
    execvp(r->argv[0], r->argv);
fail:;
    int e = errno;
    ssize_t ignored = write(report_fd, &e, sizeof e);
    (void)ignored;
    _exit(127);
}

static int sigchld_pipe[2] = { -1, -1 };

static void on_sigchld(int signo)
{
    (void)signo;
    int saved = errno;
    ssize_t ignored = write(sigchld_pipe[1], "c", 1);
    (void)ignored;
    errno = saved;
}

static void set_nonblocking(int fd)
{
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

/* Serves one connection: START, then the streams until the command exited and its output ended. */
static int serve(int conn)
{
    static char buffer[EXEC_MAX_PAYLOAD];
    static char start_payload[EXEC_MAX_PAYLOAD];
    struct exec_frame_header h;
    struct request r;
    const char *problem = NULL;

    if (read_frame(conn, &h, start_payload) != 0 || h.type != EXEC_START) {
        send_error(conn, "protocol: the first frame must be START");
        return 1;
    }
    if (parse_start(start_payload, h.length, &r, &problem) < 0) {
        send_error(conn, "protocol: %s", problem);
        return 1;
    }

    if (pipe2(sigchld_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
        return 1;
    struct sigaction sa = { .sa_handler = on_sigchld, .sa_flags = SA_RESTART | SA_NOCLDSTOP };
    sigaction(SIGCHLD, &sa, NULL);

    int child_in = -1, child_out = -1, child_err = -1; /* the child's ends */
    int to_stdin = -1, from_out = -1, from_err = -1;   /* ours */
    if (r.tty) {
        int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0) {
            send_error(conn, "cannot open a pty: %s", strerror(errno));
            return 1;
        }
        int slave = open(ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (slave < 0) {
            send_error(conn, "cannot open %s: %s", ptsname(master), strerror(errno));
            return 1;
        }
        if (r.rows && r.cols) {
            struct winsize ws = { .ws_row = (unsigned short)r.rows, .ws_col = (unsigned short)r.cols };
            ioctl(master, TIOCSWINSZ, &ws);
        }
        child_in = child_out = child_err = slave;
        to_stdin = from_out = master;
    } else {
        int in[2], out[2], err[2];
        if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) {
            send_error(conn, "cannot make pipes: %s", strerror(errno));
            return 1;
        }
        child_in = in[0]; to_stdin = in[1];
        child_out = out[1]; from_out = out[0];
        child_err = err[1]; from_err = err[0];
    }

    int report[2];
    if (pipe2(report, O_CLOEXEC) < 0)
        return 1;
    pid_t pid = fork();
    if (pid < 0) {
        send_error(conn, "fork: %s", strerror(errno));
        return 1;
    }
    if (pid == 0) {
        close(report[0]);
        become_command(&r, child_in, child_out, child_err, report[1]);
    }
    close(report[1]);
    close(child_in);
    if (!r.tty) {
        close(child_out);
        close(child_err);
    }
    int child_errno = 0;
    if (read(report[0], &child_errno, sizeof child_errno) == sizeof child_errno) {
        /* As a shell says it: a message on stderr and exit status 127 (126 when it exists but cannot run). */
        char message[512];
        int n = snprintf(message, sizeof message, "vmm-exec-agent: cannot run '%s': %s\n", r.argv[0], strerror(child_errno));
        uint32_t pid32 = (uint32_t)pid;
        uint32_t result[2] = { 0, child_errno == ENOENT ? 127u : 126u };
        waitpid(pid, NULL, 0);
        send_frame(conn, EXEC_STARTED, 0, &pid32, sizeof pid32);
        send_frame(conn, EXEC_OUTPUT, EXEC_STREAM_STDERR, message, (uint32_t)(n > 0 ? n : 0));
        send_frame(conn, EXEC_EXIT, 0, result, sizeof result);
        return 1;
    }
    close(report[0]);
    uint32_t pid32 = (uint32_t)pid;
    if (send_frame(conn, EXEC_STARTED, 0, &pid32, sizeof pid32) < 0)
        goto lost;

    set_nonblocking(to_stdin);
    /* stdin bytes the command has not taken yet: while any wait, the connection is not read (back-pressure). */
    char *pending = malloc(EXEC_MAX_PAYLOAD);
    size_t pending_off = 0, pending_len = 0;
    int stdin_close_pending = 0;
    int exited = 0, status = 0;
    int out_open = 1, err_open = from_err >= 0;
    int conn_open = 1;

    while (!exited || out_open || err_open) {
        struct pollfd fds[5];
        int n = 0, i_conn = -1, i_in = -1, i_out = -1, i_err = -1, i_chld;
        if (conn_open && pending_len == 0) { i_conn = n; fds[n++] = (struct pollfd){ .fd = conn, .events = POLLIN }; }
        if (to_stdin >= 0 && pending_len > 0) { i_in = n; fds[n++] = (struct pollfd){ .fd = to_stdin, .events = POLLOUT }; }
        if (out_open) { i_out = n; fds[n++] = (struct pollfd){ .fd = from_out, .events = POLLIN }; }
        if (err_open) { i_err = n; fds[n++] = (struct pollfd){ .fd = from_err, .events = POLLIN }; }
        i_chld = n; fds[n++] = (struct pollfd){ .fd = sigchld_pipe[0], .events = POLLIN };
        if (poll(fds, (nfds_t)n, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }

        if (fds[i_chld].revents) {
            char drain[16];
            while (read(sigchld_pipe[0], drain, sizeof drain) > 0) {}
            if (!exited && waitpid(pid, &status, WNOHANG) == pid) {
                exited = 1;
                /* A pty master reads EIO once the last slave holder is gone; pipes end by themselves. */
            }
        }
        if (i_out >= 0 && fds[i_out].revents) {
            ssize_t got = read(from_out, buffer, sizeof buffer);
            if (got > 0) {
                if (send_frame(conn, EXEC_OUTPUT, EXEC_STREAM_STDOUT, buffer, (uint32_t)got) < 0)
                    goto lost;
            } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
                out_open = 0;
                if (send_frame(conn, EXEC_OUTPUT, EXEC_STREAM_STDOUT, NULL, 0) < 0)
                    goto lost;
            }
        }
        if (i_err >= 0 && fds[i_err].revents) {
            ssize_t got = read(from_err, buffer, sizeof buffer);
            if (got > 0) {
                if (send_frame(conn, EXEC_OUTPUT, EXEC_STREAM_STDERR, buffer, (uint32_t)got) < 0)
                    goto lost;
            } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
                err_open = 0;
                if (send_frame(conn, EXEC_OUTPUT, EXEC_STREAM_STDERR, NULL, 0) < 0)
                    goto lost;
            }
        }
        if (i_in >= 0 && fds[i_in].revents) {
            ssize_t put = write(to_stdin, pending + pending_off, pending_len);
            if (put > 0) {
                pending_off += (size_t)put;
                pending_len -= (size_t)put;
            } else if (errno != EAGAIN && errno != EINTR) {
                pending_len = 0; /* the command closed its stdin: drop what it will never read */
            }
            if (pending_len == 0 && stdin_close_pending && !r.tty) {
                close(to_stdin);
                to_stdin = -1;
            }
        }
        if (i_conn >= 0 && fds[i_conn].revents) {
            int got = read_frame(conn, &h, buffer);
            if (got < 0) {
                if (got == -2) {
                    send_error(conn, "protocol: a frame of %u bytes (at most %u)", h.length, EXEC_MAX_PAYLOAD);
                }
                /* The host went away or broke the protocol: the command is ended with it. */
                kill(-pid, SIGKILL);
                conn_open = 0;
                goto lost;
            }
            switch (h.type) {
            case EXEC_STDIN:
                if (h.length == 0) {
                    if (r.tty) {
                        /* EOF on a terminal is ^D at the start of a line. */
                        memcpy(pending, "\x04", 1);
                        pending_off = 0;
                        pending_len = 1;
                    } else if (to_stdin >= 0) {
                        stdin_close_pending = 1;
                        if (pending_len == 0) {
                            close(to_stdin);
                            to_stdin = -1;
                        }
                    }
                } else if (to_stdin >= 0) {
                    memcpy(pending, buffer, h.length);
                    pending_off = 0;
                    pending_len = h.length;
                }
                break;
            case EXEC_SIGNAL:
                if (h.length == 4) {
                    uint32_t signo;
                    memcpy(&signo, buffer, 4);
                    kill(-pid, (int)signo);
                }
                break;
            case EXEC_RESIZE:
                if (h.length == 4 && r.tty) {
                    uint16_t rc[2];
                    memcpy(rc, buffer, 4);
                    struct winsize ws = { .ws_row = rc[0], .ws_col = rc[1] };
                    ioctl(from_out, TIOCSWINSZ, &ws);
                    kill(-pid, SIGWINCH);
                }
                break;
            default:
                send_error(conn, "protocol: unexpected frame type %u", h.type);
                kill(-pid, SIGKILL);
                goto lost;
            }
        }
    }

    uint32_t result[2];
    if (WIFSIGNALED(status)) {
        result[0] = 1;
        result[1] = (uint32_t)WTERMSIG(status);
    } else {
        result[0] = 0;
        result[1] = (uint32_t)WEXITSTATUS(status);
    }
    send_frame(conn, EXEC_EXIT, 0, result, sizeof result);
    return 0;

lost:
    kill(-pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return 1;
}

int main(int argc, char **argv)
{
    unsigned port = EXEC_DEFAULT_PORT;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--port") && i + 1 < argc) {
            port = (unsigned)strtoul(argv[++i], NULL, 10);
        } else {
            fprintf(stderr, "usage: vmm-exec-agent [--port N]   (default %u)\n", EXEC_DEFAULT_PORT);
            return 2;
        }
    }

    int listener = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listener < 0) {
        perror("vmm-exec-agent: socket(AF_VSOCK)");
        return 1;
    }
    struct sockaddr_vm address = { .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY, .svm_port = port };
    if (bind(listener, (struct sockaddr *)&address, sizeof address) < 0 || listen(listener, 64) < 0) {
        perror("vmm-exec-agent: bind/listen");
        return 1;
    }
    /* Handlers are reaped by the kernel: the agent itself never waits. */
    signal(SIGCHLD, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    fprintf(stderr, "vmm-exec-agent: listening on vsock port %u\n", port);

    while (1) {
        int conn = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
        if (conn < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            perror("vmm-exec-agent: accept");
            sleep(1);
            continue;
        }
        pid_t handler = fork();
        if (handler == 0) {
            close(listener);
            signal(SIGCHLD, SIG_DFL);
            _exit(serve(conn));
        }
        close(conn);
    }
}

/* vmm-exec-agent: runs commands for `vmm exec` (the host) over virtio-vsock. One connection per command, a forked
 * handler per connection, so several commands run at once. Each connection is a MultiplexingStream (protocol v1)
 * whose channels the host offers: control, stdin, stdout, stderr. Protocol: protocol.h and README.md. */
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
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

#include "protocol.h"

#define MAX_ARGS 256
#define MAX_ENV 256
/* stdin bytes held for the command; the connection is not read while less than a frame's worth is free. */
#define STDIN_BUFFER (256u * 1024u)
/* The control records after "run" (signal=, winsize=) are short. */
#define CONTROL_BUFFER 4096u

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

/* One connection: the host's channel ids (0 = not offered yet) and what the control and stdin channels brought. */
struct session {
    int conn;
    uint32_t control, stdin_channel, stdout_channel, stderr_channel;
    char request[EXEC_MAX_REQUEST];
    size_t request_length;
    int request_complete;
    char control_records[CONTROL_BUFFER];
    size_t control_length;
    char *pending; /* STDIN_BUFFER bytes */
    size_t pending_offset, pending_length;
    int stdin_ended;
};

struct frame {
    uint8_t code;
    uint32_t channel;
    uint16_t length;
    char payload[MUX_MAX_PAYLOAD];
};

/* Moves exactly length bytes through write (writing) or read, retrying on EINTR; an error or EOF is -1. */
static int transfer_all(int fd, char *p, size_t length, int writing)
{
    while (length > 0) {
        ssize_t n = writing ? write(fd, p, length) : read(fd, p, length);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        length -= (size_t)n;
    }
    return 0;
}

static int write_all(int fd, const void *data, size_t length)
{
    return transfer_all(fd, (char *)data, length, 1);
}

static int read_all(int fd, void *data, size_t length)
{
    return transfer_all(fd, data, length, 0);
}

/* One frame, header and payload in one write. */
static int send_frame(int conn, uint8_t code, uint32_t channel, const void *payload, size_t length)
{
    static unsigned char out[MUX_HEADER_SIZE + MUX_MAX_PAYLOAD];
    if (length > MUX_MAX_PAYLOAD)
        return -1;
    out[MUX_HEADER_CODE] = code;
    out[MUX_HEADER_CHANNEL] = (unsigned char)(channel >> 24);
    out[MUX_HEADER_CHANNEL + 1] = (unsigned char)(channel >> 16);
    out[MUX_HEADER_CHANNEL + 2] = (unsigned char)(channel >> 8);
    out[MUX_HEADER_CHANNEL + 3] = (unsigned char)channel;
    out[MUX_HEADER_LENGTH] = (unsigned char)(length >> 8);
    out[MUX_HEADER_LENGTH + 1] = (unsigned char)length;
    if (length)
        memcpy(out + MUX_HEADER_SIZE, payload, length);
    return write_all(conn, out, MUX_HEADER_SIZE + length);
}

static int send_content(int conn, uint32_t channel, const char *data, size_t length)
{
    while (length > 0) {
        size_t chunk = length < MUX_MAX_PAYLOAD ? length : MUX_MAX_PAYLOAD;
        if (send_frame(conn, MUX_CONTENT, channel, data, chunk) < 0)
            return -1;
        data += chunk;
        length -= chunk;
    }
    return 0;
}

/* A control record: "key=value" and its NUL. */
static int send_record(struct session *s, const char *format, ...)
{
    char record[600];
    va_list args;
    va_start(args, format);
    int n = vsnprintf(record, sizeof record, format, args);
    va_end(args);
    if (n < 0)
        return -1;
    if ((size_t)n >= sizeof record)
        n = sizeof record - 1;
    return send_content(s->conn, s->control, record, (size_t)n + 1);
}

/* The last word on a connection: an error record when the control channel is there (else the host sees the close). */
static void send_error(struct session *s, const char *format, ...)
{
    char message[512];
    va_list args;
    va_start(args, format);
    vsnprintf(message, sizeof message, format, args);
    va_end(args);
    if (s->control) {
        send_record(s, "error=%s", message);
        send_frame(s->conn, MUX_CONTENT_WRITING_COMPLETED, s->control, NULL, 0);
    }
}

/* Reads one frame: 0, -1 at the connection's end, -2 for a payload longer than MUX_MAX_PAYLOAD. */
static int read_frame(int conn, struct frame *f)
{
    unsigned char h[MUX_HEADER_SIZE];
    if (read_all(conn, h, sizeof h) < 0)
        return -1;
    f->code = h[MUX_HEADER_CODE];
    f->channel = (uint32_t)h[MUX_HEADER_CHANNEL] << 24 | (uint32_t)h[MUX_HEADER_CHANNEL + 1] << 16
        | (uint32_t)h[MUX_HEADER_CHANNEL + 2] << 8 | h[MUX_HEADER_CHANNEL + 3];
    f->length = (uint16_t)(h[MUX_HEADER_LENGTH] << 8 | h[MUX_HEADER_LENGTH + 1]);
    if (f->length > MUX_MAX_PAYLOAD)
        return -2;
    return f->length ? read_all(conn, f->payload, f->length) : 0;
}

/* Both sides send magic + random bytes, then read the other's. Returns 0 when the peer speaks v1. */
static int handshake(int conn)
{
    unsigned char mine[MUX_HANDSHAKE_SIZE] = { MUX_MAGIC_0, MUX_MAGIC_1, MUX_MAGIC_2, MUX_MAGIC_3 };
    unsigned char theirs[MUX_HANDSHAKE_SIZE];
    if (getrandom(mine + MUX_MAGIC_SIZE, MUX_RANDOM_SIZE, 0) != (ssize_t)MUX_RANDOM_SIZE)
        return -1;
    if (write_all(conn, mine, sizeof mine) < 0 || read_all(conn, theirs, sizeof theirs) < 0)
        return -1;
    if (memcmp(mine, theirs, MUX_MAGIC_SIZE) != 0)
        return -1;
    /* The parity decides how the agent would number channels it offered; it offers none, but equal random bytes
     * are a broken handshake all the same. */
    return memcmp(mine + MUX_MAGIC_SIZE, theirs + MUX_MAGIC_SIZE, MUX_RANDOM_SIZE) == 0 ? -1 : 0;
}

/* One read of the command's stdout or stderr into its channel: the bytes as content, or, at its end (or a read
 * error other than a retry), ContentWritingCompleted and *open = 0. Returns -1 when the connection is lost. */
static int pump_output(int conn, int from, uint32_t channel, char *buffer, size_t size, int *open)
{
    ssize_t got = read(from, buffer, size);
    if (got > 0)
        return send_frame(conn, MUX_CONTENT, channel, buffer, (size_t)got) < 0 ? -1 : 0;
    if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
        *open = 0;
        return send_frame(conn, MUX_CONTENT_WRITING_COMPLETED, channel, NULL, 0) < 0 ? -1 : 0;
    }
    return 0;
}

/* An offer: the four exec channels are accepted once each; any other is rejected (ChannelTerminated). */
static int on_offer(struct session *s, const struct frame *f)
{
    static const char *const names[] = { EXEC_CHANNEL_CONTROL, EXEC_CHANNEL_STDIN, EXEC_CHANNEL_STDOUT, EXEC_CHANNEL_STDERR };
    uint32_t *slots[] = { &s->control, &s->stdin_channel, &s->stdout_channel, &s->stderr_channel };
    for (size_t i = 0; i < 4; i++) {
        if (f->length == strlen(names[i]) && !memcmp(f->payload, names[i], f->length) && *slots[i] == 0 && f->channel != 0) {
            *slots[i] = f->channel;
            return send_frame(s->conn, MUX_OFFER_ACCEPTED, f->channel, NULL, 0);
        }
    }
    return send_frame(s->conn, MUX_CHANNEL_TERMINATED, f->channel, NULL, 0);
}

static int parse_request(struct session *s, struct request *r, size_t length, const char **problem)
{
    memset(r, 0, sizeof *r);
    r->uid = -1;
    r->gid = -1;
    for (char *p = s->request; p < s->request + length; p += strlen(p) + 1) {
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
            *problem = "unknown request record";
            return -1;
        }
    }
    if (r->argc == 0) {
        *problem = "no command (arg= records)";
        return -1;
    }
    return 0;
}

/* Request bytes from the control channel; once the "run" record is in, what follows it moves to control_records.
 * Returns the request's length (the records before "run") when complete, 0 while not, -1 when too long. */
static long take_request_bytes(struct session *s, const char *data, size_t length)
{
    if (length > sizeof s->request - s->request_length)
        return -1;
    memcpy(s->request + s->request_length, data, length);
    s->request_length += length;
    size_t start = 0;
    for (size_t i = 0; i < s->request_length; i++) {
        if (s->request[i] != '\0')
            continue;
        if (!strcmp(s->request + start, EXEC_RECORD_RUN)) {
            size_t rest = s->request_length - (i + 1);
            if (rest > sizeof s->control_records)
                return -1;
            memcpy(s->control_records, s->request + i + 1, rest);
            s->control_length = rest;
            s->request_complete = 1;
            return (long)start;
        }
        start = i + 1;
    }
    return 0;
}

/* stdin bytes for the command, kept until it takes them. */
static int take_stdin(struct session *s, const char *data, size_t length)
{
    if (s->stdin_ended)
        return 0;
    if (s->pending_offset > 0) {
        memmove(s->pending, s->pending + s->pending_offset, s->pending_length);
        s->pending_offset = 0;
    }
    if (length > STDIN_BUFFER - s->pending_length)
        return -1;
    memcpy(s->pending + s->pending_length, data, length);
    s->pending_length += length;
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
    /* The command starts with every signal at its default and none blocked: /init starts the agent in the
     * background of a non-interactive shell, which ignores SIGINT and SIGQUIT, and that would pass to it. */
    for (int signo = 1; signo < NSIG; signo++)
        signal(signo, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
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

/* Control records after "run": signal=N, winsize=ROWS,COLS. Returns -1 for a record too long to be one. */
static int on_control(struct session *s, const char *data, size_t length, pid_t pid, int pty)
{
    if (length > sizeof s->control_records - s->control_length)
        return -1;
    memcpy(s->control_records + s->control_length, data, length);
    s->control_length += length;
    size_t start = 0;
    for (size_t i = 0; i < s->control_length; i++) {
        if (s->control_records[i] != '\0')
            continue;
        const char *record = s->control_records + start;
        unsigned rows, cols;
        if (!strncmp(record, "signal=", 7)) {
            int signo = atoi(record + 7);
            if (signo > 0 && signo < 65)
                kill(-pid, signo);
        } else if (sscanf(record, "winsize=%u,%u", &rows, &cols) == 2 && pty >= 0) {
            struct winsize ws = { .ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols };
            ioctl(pty, TIOCSWINSZ, &ws);
            kill(-pid, SIGWINCH);
        }
        start = i + 1;
    }
    memmove(s->control_records, s->control_records + start, s->control_length - start);
    s->control_length -= start;
    return 0;
}

/* After the last record: no more writes, then wait (briefly) for the host to close, so nothing it sent is reset. */
static void linger(int conn)
{
    char drain[4096];
    shutdown(conn, SHUT_WR);
    struct pollfd p = { .fd = conn, .events = POLLIN };
    while (poll(&p, 1, 2000) > 0 && read(conn, drain, sizeof drain) > 0) {}
}

/* Serves one connection: the handshake, the offers and the request, then the streams until the command exited and
 * its output ended. */
static int serve(int conn)
{
    static struct session s;
    static struct frame f;
    struct request r;
    const char *problem = NULL;
    char buffer[MUX_MAX_PAYLOAD];

    s.conn = conn;
    s.pending = malloc(STDIN_BUFFER);
    if (!s.pending || handshake(conn) < 0)
        return 1;

    /* Until "run": accept the channels and collect the request (stdin that comes early is kept). */
    long request_length = 0;
    while (!s.request_complete) {
        int got = read_frame(conn, &f);
        if (got == -2) {
            send_error(&s, "protocol: a frame of %u bytes (at most %u)", f.length, MUX_MAX_PAYLOAD);
            return 1;
        }
        if (got < 0)
            return 1;
        switch (f.code) {
        case MUX_OFFER:
            if (on_offer(&s, &f) < 0)
                return 1;
            break;
        case MUX_CONTENT:
            if (f.channel == s.control && s.control) {
                request_length = take_request_bytes(&s, f.payload, f.length);
                if (request_length < 0) {
                    send_error(&s, "protocol: the request is longer than %u bytes", EXEC_MAX_REQUEST);
                    return 1;
                }
            } else if (f.channel == s.stdin_channel && s.stdin_channel && take_stdin(&s, f.payload, f.length) < 0) {
                send_error(&s, "protocol: stdin overflows its buffer");
                return 1;
            }
            break;
        case MUX_CONTENT_WRITING_COMPLETED:
        case MUX_CHANNEL_TERMINATED:
            if (f.channel == s.stdin_channel && s.stdin_channel) {
                s.stdin_ended = 1;
            } else if (f.channel == s.control && s.control) {
                send_error(&s, "protocol: the control channel ended before \"run\"");
                return 1;
            }
            break;
        default:
            send_error(&s, "protocol: unexpected frame code %u for protocol version 1", f.code);
            return 1;
        }
    }
    if (!s.stdin_channel || !s.stdout_channel || !s.stderr_channel) {
        send_error(&s, "protocol: \"run\" before the stdin, stdout and stderr channels were offered");
        return 1;
    }
    if (parse_request(&s, &r, (size_t)request_length, &problem) < 0) {
        send_error(&s, "protocol: %s", problem);
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
            send_error(&s, "cannot open a pty: %s", strerror(errno));
            return 1;
        }
        int slave = open(ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (slave < 0) {
            send_error(&s, "cannot open %s: %s", ptsname(master), strerror(errno));
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
            send_error(&s, "cannot make pipes: %s", strerror(errno));
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
        send_error(&s, "fork: %s", strerror(errno));
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
        waitpid(pid, NULL, 0);
        send_record(&s, "pid=%d", (int)pid);
        send_content(conn, s.stderr_channel, message, n > 0 ? (size_t)n : 0);
        send_frame(conn, MUX_CONTENT_WRITING_COMPLETED, s.stdout_channel, NULL, 0);
        send_frame(conn, MUX_CONTENT_WRITING_COMPLETED, s.stderr_channel, NULL, 0);
        send_record(&s, "exit=%d", child_errno == ENOENT ? 127 : 126);
        send_frame(conn, MUX_CONTENT_WRITING_COMPLETED, s.control, NULL, 0);
        linger(conn);
        return 1;
    }
    close(report[0]);
    if (send_record(&s, "pid=%d", (int)pid) < 0)
        goto lost;
    /* On a pty stdout and stderr are one stream: the stderr channel has nothing to say. */
    if (r.tty && send_frame(conn, MUX_CONTENT_WRITING_COMPLETED, s.stderr_channel, NULL, 0) < 0)
        goto lost;

    set_nonblocking(to_stdin);
    int exited = 0, status = 0;
    int out_open = 1, err_open = from_err >= 0;
    int eof_sent = 0;
    int pty = r.tty ? from_out : -1;
    if (s.control_length > 0 && on_control(&s, "", 0, pid, pty) < 0)
        goto lost;

    while (!exited || out_open || err_open) {
        /* stdin ended and drained: close the pipe, or on a pty send ^D (EOF at the start of a line). */
        if (s.stdin_ended && s.pending_length == 0 && !eof_sent && to_stdin >= 0) {
            eof_sent = 1;
            if (r.tty) {
                s.pending[0] = '\x04';
                s.pending_offset = 0;
                s.pending_length = 1;
            } else {
                close(to_stdin);
                to_stdin = -1;
            }
        }

        struct pollfd fds[5];
        int n = 0, i_conn = -1, i_in = -1, i_out = -1, i_err = -1, i_chld;
        if (STDIN_BUFFER - s.pending_length >= MUX_MAX_PAYLOAD) { i_conn = n; fds[n++] = (struct pollfd){ .fd = conn, .events = POLLIN }; }
        if (to_stdin >= 0 && s.pending_length > 0) { i_in = n; fds[n++] = (struct pollfd){ .fd = to_stdin, .events = POLLOUT }; }
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
            /* A pty master reads EIO once the last slave holder is gone; pipes end by themselves. */
            if (!exited && waitpid(pid, &status, WNOHANG) == pid)
                exited = 1;
        }
        if (i_out >= 0 && fds[i_out].revents && pump_output(conn, from_out, s.stdout_channel, buffer, sizeof buffer, &out_open) < 0)
            goto lost;
        if (i_err >= 0 && fds[i_err].revents && pump_output(conn, from_err, s.stderr_channel, buffer, sizeof buffer, &err_open) < 0)
            goto lost;
        if (i_in >= 0 && fds[i_in].revents) {
            ssize_t put = write(to_stdin, s.pending + s.pending_offset, s.pending_length);
            if (put > 0) {
                s.pending_offset += (size_t)put;
                s.pending_length -= (size_t)put;
            } else if (errno != EAGAIN && errno != EINTR) {
                s.pending_length = 0; /* the command closed its stdin: drop what it will never read */
            }
            if (s.pending_length == 0)
                s.pending_offset = 0;
        }
        if (i_conn >= 0 && fds[i_conn].revents) {
            int got = read_frame(conn, &f);
            if (got == -2)
                send_error(&s, "protocol: a frame of %u bytes (at most %u)", f.length, MUX_MAX_PAYLOAD);
            if (got < 0)
                goto lost; /* the host went away or broke the protocol: the command ends with it */
            switch (f.code) {
            case MUX_CONTENT:
                if (f.channel == s.stdin_channel) {
                    if (take_stdin(&s, f.payload, f.length) < 0) {
                        send_error(&s, "protocol: stdin overflows its buffer");
                        goto lost;
                    }
                } else if (f.channel == s.control && on_control(&s, f.payload, f.length, pid, pty) < 0) {
                    send_error(&s, "protocol: a control record longer than %u bytes", CONTROL_BUFFER);
                    goto lost;
                }
                break;
            case MUX_CONTENT_WRITING_COMPLETED:
            case MUX_CHANNEL_TERMINATED:
                if (f.channel == s.stdin_channel)
                    s.stdin_ended = 1;
                break;
            case MUX_OFFER:
                if (on_offer(&s, &f) < 0)
                    goto lost;
                break;
            default:
                send_error(&s, "protocol: unexpected frame code %u for protocol version 1", f.code);
                goto lost;
            }
        }
    }

    if (WIFSIGNALED(status))
        send_record(&s, "signal=%d", WTERMSIG(status));
    else
        send_record(&s, "exit=%d", WEXITSTATUS(status));
    send_frame(conn, MUX_CONTENT_WRITING_COMPLETED, s.control, NULL, 0);
    linger(conn);
    return 0;

lost:
    kill(-pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return 1;
}

static void usage(void)
{
    fprintf(stderr, "usage: vmm-exec-agent [--port N | --unix PATH]   (default: vsock port %u; --unix serves a Unix socket, for tests on the host)\n", EXEC_DEFAULT_PORT);
    exit(2);
}

int main(int argc, char **argv)
{
    unsigned port = EXEC_DEFAULT_PORT;
    const char *unix_path = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--port") && i + 1 < argc)
            port = (unsigned)strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--unix") && i + 1 < argc)
            unix_path = argv[++i];
        else
            usage();
    }

    int listener;
    if (unix_path) {
        struct sockaddr_un address = { .sun_family = AF_UNIX };
        if (strlen(unix_path) >= sizeof address.sun_path)
            usage();
        strcpy(address.sun_path, unix_path);
        listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (listener < 0 || bind(listener, (struct sockaddr *)&address, sizeof address) < 0 || listen(listener, 64) < 0) {
            perror("vmm-exec-agent: bind/listen (unix)");
            return 1;
        }
    } else {
        struct sockaddr_vm address = { .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY, .svm_port = port };
        listener = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (listener < 0 || bind(listener, (struct sockaddr *)&address, sizeof address) < 0 || listen(listener, 64) < 0) {
            perror("vmm-exec-agent: socket/bind/listen (vsock)");
            return 1;
        }
    }
    /* Handlers are reaped by the kernel: the agent itself never waits. */
    signal(SIGCHLD, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    if (unix_path)
        fprintf(stderr, "vmm-exec-agent: listening on %s\n", unix_path);
    else
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

/* The exec protocol between `vmm exec` and vmm-exec-agent: one vsock stream per command, framed.
 * Every frame: an 8-byte header, then `length` payload bytes. Little endian. See README.md. */
#ifndef VMM_EXEC_PROTOCOL_H
#define VMM_EXEC_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>

#define EXEC_DEFAULT_PORT 1024u
#define EXEC_MAX_PAYLOAD (64u * 1024u)

struct exec_frame_header {
    uint32_t length; /* payload bytes, at most EXEC_MAX_PAYLOAD */
    uint8_t type;    /* enum exec_frame_type */
    uint8_t stream;  /* EXEC_STREAM_* for STDIN/OUTPUT, else 0 */
    uint16_t reserved;
};
_Static_assert(sizeof(struct exec_frame_header) == 8, "exec_frame_header");
_Static_assert(offsetof(struct exec_frame_header, type) == 4, "type");
_Static_assert(offsetof(struct exec_frame_header, stream) == 5, "stream");

enum exec_frame_type {
    /* host -> guest */
    EXEC_START = 1,  /* NUL-terminated "key=value" records: arg= (repeated, argv in order), env=K=V, cwd=, uid=, gid=, tty=1, rows=, cols= */
    EXEC_STDIN = 2,  /* data for the command's stdin (or the pty); an empty payload closes stdin */
    EXEC_SIGNAL = 3, /* le32 signal number, sent to the command's process group */
    EXEC_RESIZE = 4, /* le16 rows, le16 cols: the pty's window size */
    /* guest -> host */
    EXEC_STARTED = 16, /* le32 pid */
    EXEC_OUTPUT = 17,  /* stream 1 stdout (or the pty), 2 stderr; an empty payload is that stream's end */
    EXEC_EXIT = 18,    /* le32 kind (0 exited, 1 killed by a signal), le32 code or signal number; the last frame */
    EXEC_ERROR = 19,   /* UTF-8 message (the command could not start, a protocol error); the last frame */
};

enum { EXEC_STREAM_STDIN = 0, EXEC_STREAM_STDOUT = 1, EXEC_STREAM_STDERR = 2 };

#endif

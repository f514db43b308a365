/* The exec protocol between `vmm exec` and vmm-exec-agent: one vsock stream per command, carrying Nerdbank.Streams'
 * MultiplexingStream protocol, major version 1 (our own C reading of dotnet/Nerdbank.Streams
 * src/Nerdbank.Streams/MultiplexingStream.Formatters.cs, V1Formatter, and MultiplexingStream.cs; checked against the
 * Nerdbank.Streams 2.14.411 package by tests/Vmm.Cli.Tests/ExecAgentProtocolTests.cs). See README.md. */
#ifndef VMM_EXEC_PROTOCOL_H
#define VMM_EXEC_PROTOCOL_H

#include <stdint.h>

#define EXEC_DEFAULT_PORT 1024u

/* Handshake, both sides at once: the 4 magic bytes, then 16 random bytes. The side whose random bytes compare
 * greater (first differing byte) is "odd" and numbers the channels it offers 1, 3, 5...; the other 2, 4, 6... */
#define MUX_MAGIC_0 0x2f
#define MUX_MAGIC_1 0xdf
#define MUX_MAGIC_2 0x1d
#define MUX_MAGIC_3 0x50
#define MUX_MAGIC_SIZE 4u
#define MUX_RANDOM_SIZE 16u
#define MUX_HANDSHAKE_SIZE (MUX_MAGIC_SIZE + MUX_RANDOM_SIZE)

/* Every frame: a 7-byte header, big endian, then `length` payload bytes. */
#define MUX_HEADER_CODE 0u    /* u8: enum mux_code */
#define MUX_HEADER_CHANNEL 1u /* be32: the channel id as its offerer numbered it */
#define MUX_HEADER_LENGTH 5u  /* be16: payload bytes */
#define MUX_HEADER_SIZE 7u
/* The largest payload the library reads (its FramePayloadMaxLength); a longer frame breaks the stream. */
#define MUX_MAX_PAYLOAD (20u * 1024u)

enum mux_code {
    MUX_OFFER = 0,                     /* payload: the channel's name, UTF-8 */
    MUX_OFFER_ACCEPTED = 1,            /* payload: empty in v1 */
    MUX_CONTENT = 2,                   /* payload: channel bytes */
    MUX_CONTENT_WRITING_COMPLETED = 3, /* the sender writes no more to this channel (EOF) */
    MUX_CHANNEL_TERMINATED = 4,        /* the channel is gone (also: an offer rejected) */
    /* 5..8 (ContentProcessed, ContentReadingCompleted, window frames) belong to protocol v2 and v3 only. */
};

/* The channels `vmm exec` offers; the agent accepts these four and rejects any other. */
#define EXEC_CHANNEL_CONTROL "control"
#define EXEC_CHANNEL_STDIN "stdin"
#define EXEC_CHANNEL_STDOUT "stdout" /* also the pty, with tty=1 */
#define EXEC_CHANNEL_STDERR "stderr" /* completed at once with tty=1 */

/* The control channel, both ways: NUL-terminated "key=value" records.
 * host -> agent, the request: arg= (repeated, argv in order), env=K=V (repeated), cwd=, uid=, gid=, tty=1, rows=,
 *   cols=, then "run" (no value) starts it; afterwards signal=N (to the command's process group) and
 *   winsize=ROWS,COLS (TIOCSWINSZ on the pty, then SIGWINCH).
 * agent -> host: pid=N once the command runs; then exit=N or signal=N (killed by it) as the last record, after
 *   stdout and stderr completed; or error=MESSAGE as the last record (a bad request, a protocol error). */
#define EXEC_RECORD_RUN "run"
/* The longest request (all records up to "run") and the longest record after it. */
#define EXEC_MAX_REQUEST (64u * 1024u)

#endif

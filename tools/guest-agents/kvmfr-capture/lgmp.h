/*
 * LGMP (Looking Glass Memory Protocol) version 6, as in Looking Glass B7: the shared-memory layout, declared
 * once by field with every offset and size asserted, and the producer ("LGMP host") side of the protocol.
 * Layout source: /work/shared/reference/looking-glass-kvmfr.md sections 2.3-2.5 (our own code, not LGMP's).
 *
 * All fields are little-endian (x86). Words that both sides change concurrently are C11 atomics; on x86-64
 * gcc an _Atomic uint32_t/uint64_t has the size and alignment of the plain type, which the asserts check.
 */
#ifndef KVMFR_CAPTURE_LGMP_H
#define KVMFR_CAPTURE_LGMP_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define LGMP_PROTOCOL_MAGIC 0x504d474cu /* "LGMP" as little-endian bytes */
#define LGMP_PROTOCOL_VERSION 6u
#define LGMP_MAX_QUEUES 5
#define LGMP_MSGS_MAX 10       /* client->host ring slots per queue */
#define LGMP_MSGS_SIZE 64      /* largest client->host message */
#define LGMP_SUBS_MAX 32       /* subscribers per queue, one bit each */

/* One slot of the client->host ring. */
struct lgmp_client_message {
    uint32_t size;
    uint8_t data[LGMP_MSGS_SIZE];
};

/* One queue's bookkeeping, inside the header. */
struct lgmp_header_queue {
    uint32_t queue_id;
    uint32_t num_messages;             /* ring slots: requested length + 1 */
    _Atomic uint32_t new_sub_count;    /* clients add 1 on subscribe; the host takes it with exchange(0) */
    uint32_t max_time;                 /* subscriber timeout, ms */
    _Atomic uint32_t position;         /* next slot the host fills; the publication point */
    uint32_t messages_offset;          /* from the shm base to struct lgmp_message[num_messages] */
    uint64_t timeout[LGMP_SUBS_MAX];   /* reap deadline (host ms) of a subscriber marked BAD */
    uint32_t client_id[LGMP_SUBS_MAX];
    _Atomic uint32_t lock;             /* spin-lock: CAS 0->1 takes it, store 0 releases it */
    _Atomic uint64_t subs;             /* high 32 bits: ON (subscribed), low 32 bits: BAD (timed out) */
    uint32_t start;                    /* oldest message not yet retired */
    _Atomic uint64_t msg_timeout;      /* host-ms deadline of the oldest message */
    _Atomic uint32_t count;            /* posted and not yet retired */
    _Atomic uint32_t cmsg_lock;        /* spin-lock of the client->host ring */
    _Atomic uint32_t cmsg_avail;
    uint32_t cmsg_wpos;
    _Atomic uint32_t cmsg_wserial;
    _Atomic uint32_t cmsg_rserial;     /* the host adds 1 per handled client message */
    struct lgmp_client_message cmsgs[LGMP_MSGS_MAX];
};

/* The header at offset 0 of the shared memory; the app's udata follows at 5756. */
struct lgmp_header {
    uint32_t magic;
    uint32_t version;
    uint32_t session_id;
    _Atomic uint64_t timestamp;        /* host monotonic ms: the heartbeat */
    uint32_t num_queues;
    struct lgmp_header_queue queues[LGMP_MAX_QUEUES];
    uint32_t udata_size;
    uint8_t udata[];
};

/* A ring element, at messages_offset + 16 * slot. */
struct lgmp_message {
    uint32_t udata;                    /* app value (KVMFR: cursor flags) */
    uint32_t size;                     /* payload allocation size */
    uint32_t offset;                   /* payload offset from the shm base */
    _Atomic uint32_t pending_subs;     /* subscribers that have not released it yet */
};

_Static_assert(sizeof(struct lgmp_client_message) == 68, "LGMPClientMessage is 68 bytes");
_Static_assert(offsetof(struct lgmp_header_queue, queue_id) == 0, "queueID");
_Static_assert(offsetof(struct lgmp_header_queue, num_messages) == 4, "numMessages");
_Static_assert(offsetof(struct lgmp_header_queue, new_sub_count) == 8, "newSubCount");
_Static_assert(offsetof(struct lgmp_header_queue, max_time) == 12, "maxTime");
_Static_assert(offsetof(struct lgmp_header_queue, position) == 16, "position");
_Static_assert(offsetof(struct lgmp_header_queue, messages_offset) == 20, "messagesOffset");
_Static_assert(offsetof(struct lgmp_header_queue, timeout) == 24, "timeout[32]");
_Static_assert(offsetof(struct lgmp_header_queue, client_id) == 280, "clientID[32]");
_Static_assert(offsetof(struct lgmp_header_queue, lock) == 408, "lock");
_Static_assert(offsetof(struct lgmp_header_queue, subs) == 416, "subs");
_Static_assert(offsetof(struct lgmp_header_queue, start) == 424, "start");
_Static_assert(offsetof(struct lgmp_header_queue, msg_timeout) == 432, "msgTimeout");
_Static_assert(offsetof(struct lgmp_header_queue, count) == 440, "count");
_Static_assert(offsetof(struct lgmp_header_queue, cmsg_lock) == 444, "cMsgLock");
_Static_assert(offsetof(struct lgmp_header_queue, cmsg_avail) == 448, "cMsgAvail");
_Static_assert(offsetof(struct lgmp_header_queue, cmsg_wpos) == 452, "cMsgWPos");
_Static_assert(offsetof(struct lgmp_header_queue, cmsg_wserial) == 456, "cMsgWSerial");
_Static_assert(offsetof(struct lgmp_header_queue, cmsg_rserial) == 460, "cMsgRSerial");
_Static_assert(offsetof(struct lgmp_header_queue, cmsgs) == 464, "cMsgs[10]");
_Static_assert(sizeof(struct lgmp_header_queue) == 1144, "LGMPHeaderQueue is 1144 bytes");
_Static_assert(offsetof(struct lgmp_header, magic) == 0, "magic");
_Static_assert(offsetof(struct lgmp_header, version) == 4, "version");
_Static_assert(offsetof(struct lgmp_header, session_id) == 8, "sessionID");
_Static_assert(offsetof(struct lgmp_header, timestamp) == 16, "timestamp");
_Static_assert(offsetof(struct lgmp_header, num_queues) == 24, "numQueues");
_Static_assert(offsetof(struct lgmp_header, queues) == 32, "queues[5]");
_Static_assert(offsetof(struct lgmp_header, udata_size) == 5752, "udataSize");
_Static_assert(offsetof(struct lgmp_header, udata) == 5756, "udata");
_Static_assert(sizeof(struct lgmp_header) == 5760, "LGMPHeader is 5760 bytes");
_Static_assert(offsetof(struct lgmp_message, udata) == 0, "msg udata");
_Static_assert(offsetof(struct lgmp_message, size) == 4, "msg size");
_Static_assert(offsetof(struct lgmp_message, offset) == 8, "msg offset");
_Static_assert(offsetof(struct lgmp_message, pending_subs) == 12, "msg pendingSubs");
_Static_assert(sizeof(struct lgmp_message) == 16, "LGMPHeaderMessage is 16 bytes");

/* The subs word: ON in the high half, BAD in the low half. */
static inline uint32_t lgmp_subs_on(uint64_t subs) { return (uint32_t)(subs >> 32); }
static inline uint32_t lgmp_subs_bad(uint64_t subs) { return (uint32_t)subs; }

/* Our errors (a subset of LGMP_STATUS, same meaning). */
enum lgmp_status {
    LGMP_OK = 0,
    LGMP_ERR_INVALID_SIZE,
    LGMP_ERR_NO_SHARED_MEM,
    LGMP_ERR_HOST_STARTED,
    LGMP_ERR_NO_QUEUES,
    LGMP_ERR_QUEUE_FULL,
    LGMP_ERR_QUEUE_EMPTY,
    LGMP_ERR_CORRUPTED,
};
const char *lgmp_status_text(enum lgmp_status status);

/* A block of the shared memory this host allocated: offset from the base and size. */
struct lgmp_mem {
    uint32_t offset;
    uint32_t size;
};

struct lgmp_host;

/* A queue this host created. */
struct lgmp_host_queue {
    struct lgmp_host *host;
    struct lgmp_header_queue *hq;
    uint32_t cmsg_read_pos;            /* host-private read index of the client->host ring */
};

struct lgmp_host {
    uint8_t *base;
    uint32_t size;
    struct lgmp_header *header;
    uint32_t next_free;                /* first free byte for allocations */
    int started;                       /* a message was posted: no more queues */
    struct lgmp_host_queue queues[LGMP_MAX_QUEUES];
    int num_queues;
};

/* Monotonic milliseconds: the clock of every time value this host stores in shm. */
uint64_t lgmp_now_ms(void);

/* Writes a fresh header (new session id, different from the one in shm) with the app's udata. */
enum lgmp_status lgmp_host_init(struct lgmp_host *host, void *base, uint32_t size, const void *udata, uint32_t udata_size);
/* Creates queue queue_id with room for length messages; subscriber timeout max_time_ms. */
enum lgmp_status lgmp_host_queue_new(struct lgmp_host *host, uint32_t queue_id, uint32_t length, uint32_t max_time_ms,
    struct lgmp_host_queue **queue);
/* Allocates size bytes aligned to align (a power of two); the size is rounded up to align too. */
enum lgmp_status lgmp_host_alloc(struct lgmp_host *host, uint32_t size, uint32_t align, struct lgmp_mem *mem);
/* Bytes still free after the allocations so far. */
uint32_t lgmp_host_free_bytes(const struct lgmp_host *host);
static inline void *lgmp_host_ptr(const struct lgmp_host *host, struct lgmp_mem mem) { return host->base + mem.offset; }
/* Posts mem with udata to every subscriber that is ON and not BAD; *posted says whether anyone was listening. */
enum lgmp_status lgmp_host_post(struct lgmp_host_queue *queue, uint32_t udata, struct lgmp_mem mem, int *posted);
/* Messages posted and not retired yet. */
uint32_t lgmp_host_pending(const struct lgmp_host_queue *queue);
/* Subscribers that joined since the last call (the counter is reset). */
uint32_t lgmp_host_new_subs(struct lgmp_host_queue *queue);
/* Heartbeat: stores the timestamp, times out slow subscribers and retires released messages. Also drains
 * (and acks) client->host messages; this producer advertises no feature that needs them. */
enum lgmp_status lgmp_host_process(struct lgmp_host *host);

#endif

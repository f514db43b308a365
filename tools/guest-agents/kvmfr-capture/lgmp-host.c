/* The LGMP v6 producer: header set-up, queues, allocations, posting and the heartbeat (brief section 2.5). */
#define _GNU_SOURCE
#include "lgmp.h"

#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define ALIGN_UP(x, a) (((x) + ((a) - 1)) & ~((a) - 1))

const char *lgmp_status_text(enum lgmp_status status)
{
    switch (status) {
    case LGMP_OK: return "ok";
    case LGMP_ERR_INVALID_SIZE: return "shared memory too small";
    case LGMP_ERR_NO_SHARED_MEM: return "out of shared memory";
    case LGMP_ERR_HOST_STARTED: return "queues must be created before the first post";
    case LGMP_ERR_NO_QUEUES: return "no queue slot left";
    case LGMP_ERR_QUEUE_FULL: return "queue full";
    case LGMP_ERR_QUEUE_EMPTY: return "queue empty";
    case LGMP_ERR_CORRUPTED: return "header overwritten (magic lost)";
    }
    return "unknown";
}

uint64_t lgmp_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint32_t random_u32(void)
{
    uint32_t value;
    /* Non-blocking: early in boot the pool may not be ready, and any value that differs will do. */
    if (getrandom(&value, sizeof value, GRND_NONBLOCK) == (ssize_t)sizeof value) {
        return value;
    }
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint32_t)ts.tv_nsec ^ ((uint32_t)ts.tv_sec << 20) ^ ((uint32_t)getpid() << 8);
}

static void queue_lock(_Atomic uint32_t *lock)
{
    for (;;) {
        uint32_t expected = 0;
        if (atomic_compare_exchange_weak_explicit(lock, &expected, 1, memory_order_acquire, memory_order_relaxed)) {
            return;
        }
        __builtin_ia32_pause();
    }
}

static void queue_unlock(_Atomic uint32_t *lock)
{
    atomic_store_explicit(lock, 0, memory_order_release);
}

enum lgmp_status lgmp_host_init(struct lgmp_host *host, void *base, uint32_t size, const void *udata, uint32_t udata_size)
{
    if ((uint64_t)size < sizeof(struct lgmp_header) + udata_size) {
        return LGMP_ERR_INVALID_SIZE;
    }

    memset(host, 0, sizeof *host);
    host->base = base;
    host->size = size;
    host->header = base;
    struct lgmp_header *header = host->header;

    uint32_t old_session = header->session_id;
    uint32_t session;
    do {
        session = random_u32();
    } while (session == old_session);

    /* Clients retry while the magic is wrong, so it is written last (as post-B7 LGMP does). */
    header->magic = 0;
    atomic_thread_fence(memory_order_seq_cst);
    header->version = LGMP_PROTOCOL_VERSION;
    header->session_id = session;
    atomic_store_explicit(&header->timestamp, lgmp_now_ms(), memory_order_release);
    header->num_queues = 0;
    header->udata_size = udata_size;
    memcpy(header->udata, udata, udata_size);
    host->next_free = ALIGN_UP((uint32_t)sizeof(struct lgmp_header) + udata_size, 4u);
    atomic_thread_fence(memory_order_seq_cst);
    header->magic = LGMP_PROTOCOL_MAGIC;
    atomic_thread_fence(memory_order_seq_cst);
    return LGMP_OK;
}

enum lgmp_status lgmp_host_alloc(struct lgmp_host *host, uint32_t size, uint32_t align, struct lgmp_mem *mem)
{
    uint64_t offset = ALIGN_UP((uint64_t)host->next_free, (uint64_t)align);
    uint64_t rounded = ALIGN_UP((uint64_t)size, (uint64_t)align);
    if (offset + rounded > host->size) {
        return LGMP_ERR_NO_SHARED_MEM;
    }

    mem->offset = (uint32_t)offset;
    mem->size = (uint32_t)rounded;
    host->next_free = (uint32_t)(offset + rounded);
    return LGMP_OK;
}

uint32_t lgmp_host_free_bytes(const struct lgmp_host *host)
{
    return host->size - host->next_free;
}

enum lgmp_status lgmp_host_queue_new(struct lgmp_host *host, uint32_t queue_id, uint32_t length, uint32_t max_time_ms,
    struct lgmp_host_queue **queue)
{
    if (host->started) {
        return LGMP_ERR_HOST_STARTED;
    }

    if (host->num_queues == LGMP_MAX_QUEUES) {
        return LGMP_ERR_NO_QUEUES;
    }

    uint32_t slots = length + 1; /* one slot stays empty to tell full from empty */
    struct lgmp_mem ring;
    enum lgmp_status status = lgmp_host_alloc(host, slots * (uint32_t)sizeof(struct lgmp_message), 4, &ring);
    if (status != LGMP_OK) {
        return status;
    }

    struct lgmp_header_queue *hq = &host->header->queues[host->num_queues];
    hq->queue_id = queue_id;
    hq->num_messages = slots;
    atomic_store(&hq->new_sub_count, 0);
    hq->max_time = max_time_ms;
    atomic_store(&hq->position, 0);
    hq->messages_offset = ring.offset;
    atomic_store(&hq->lock, 0);
    atomic_store(&hq->subs, 0);
    hq->start = 0;
    atomic_store(&hq->msg_timeout, 0);
    atomic_store(&hq->count, 0);
    atomic_store(&hq->cmsg_lock, 0);
    atomic_store(&hq->cmsg_avail, LGMP_MSGS_MAX);
    hq->cmsg_wpos = 0;
    atomic_store(&hq->cmsg_wserial, 0);
    atomic_store(&hq->cmsg_rserial, 0);
    memset(host->base + ring.offset, 0, ring.size);

    struct lgmp_host_queue *q = &host->queues[host->num_queues];
    q->host = host;
    q->hq = hq;
    q->cmsg_read_pos = 0;
    host->num_queues++;
    atomic_thread_fence(memory_order_seq_cst);
    host->header->num_queues = (uint32_t)host->num_queues;
    *queue = q;
    return LGMP_OK;
}

static struct lgmp_message *queue_messages(const struct lgmp_host_queue *queue)
{
    return (struct lgmp_message *)(queue->host->base + queue->hq->messages_offset);
}

enum lgmp_status lgmp_host_post(struct lgmp_host_queue *queue, uint32_t udata, struct lgmp_mem mem, int *posted)
{
    struct lgmp_header_queue *hq = queue->hq;
    queue->host->started = 1;
    *posted = 0;
    queue_lock(&hq->lock);
    uint64_t subs = atomic_load(&hq->subs);
    uint32_t pending = lgmp_subs_on(subs) & ~lgmp_subs_bad(subs);
    if (pending == 0) {
        queue_unlock(&hq->lock);
        return LGMP_OK; /* nobody listens: nothing to post */
    }

    if (atomic_load(&hq->count) == hq->num_messages - 1) {
        queue_unlock(&hq->lock);
        return LGMP_ERR_QUEUE_FULL;
    }

    uint32_t position = atomic_load_explicit(&hq->position, memory_order_relaxed);
    struct lgmp_message *message = &queue_messages(queue)[position];
    message->udata = udata;
    message->size = mem.size;
    message->offset = mem.offset;
    atomic_store(&message->pending_subs, pending);
    if (atomic_fetch_add(&hq->count, 1) == 0) {
        atomic_store(&hq->msg_timeout, lgmp_now_ms() + hq->max_time);
    }

    atomic_store_explicit(&hq->position, (position + 1) % hq->num_messages, memory_order_release);
    queue_unlock(&hq->lock);
    *posted = 1;
    return LGMP_OK;
}

uint32_t lgmp_host_pending(const struct lgmp_host_queue *queue)
{
    return atomic_load(&queue->hq->count);
}

uint32_t lgmp_host_new_subs(struct lgmp_host_queue *queue)
{
    return atomic_exchange(&queue->hq->new_sub_count, 0);
}

/* Retires released messages and marks subscribers that held the oldest one past its deadline BAD. */
static void process_queue(struct lgmp_header_queue *hq, struct lgmp_message *messages, uint64_t now)
{
    queue_lock(&hq->lock);
    if (atomic_load(&hq->count) == 0) {
        queue_unlock(&hq->lock);
        return;
    }

    uint64_t subs = atomic_load(&hq->subs);
    for (;;) {
        struct lgmp_message *message = &messages[hq->start];
        uint32_t pending = atomic_load(&message->pending_subs) & lgmp_subs_on(subs);
        uint32_t new_bad = pending & ~lgmp_subs_bad(subs);
        if (new_bad != 0 && now > atomic_load(&hq->msg_timeout)) {
            subs |= new_bad;
            for (unsigned id = 0; id < LGMP_SUBS_MAX; id++) {
                if (new_bad & (1u << id)) {
                    hq->timeout[id] = now + hq->max_time;
                }
            }
            atomic_store(&message->pending_subs, 0);
        }

        if (pending & ~lgmp_subs_bad(subs)) {
            break;
        }

        hq->start = (hq->start + 1) % hq->num_messages;
        if (atomic_fetch_sub(&hq->count, 1) == 1) {
            break;
        }

        atomic_store(&hq->msg_timeout, now + hq->max_time);
    }

    atomic_store(&hq->subs, subs);
    queue_unlock(&hq->lock);
}

/* Reads and acks client->host messages; none is acted on (features 0 means the client sends none). */
static void drain_client_messages(struct lgmp_host_queue *queue)
{
    struct lgmp_header_queue *hq = queue->hq;
    while (atomic_load(&hq->cmsg_avail) < LGMP_MSGS_MAX) {
        queue_lock(&hq->cmsg_lock);
        queue->cmsg_read_pos = (queue->cmsg_read_pos + 1) % LGMP_MSGS_MAX;
        atomic_fetch_add(&hq->cmsg_avail, 1);
        queue_unlock(&hq->cmsg_lock);
        atomic_fetch_add(&hq->cmsg_rserial, 1);
    }
}

enum lgmp_status lgmp_host_process(struct lgmp_host *host)
{
    if (host->header->magic != LGMP_PROTOCOL_MAGIC) {
        return LGMP_ERR_CORRUPTED;
    }

    uint64_t now = lgmp_now_ms();
    atomic_store_explicit(&host->header->timestamp, now, memory_order_release);
    for (int i = 0; i < host->num_queues; i++) {
        process_queue(host->queues[i].hq, queue_messages(&host->queues[i]), now);
        drain_client_messages(&host->queues[i]);
    }

    return LGMP_OK;
}

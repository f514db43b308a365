using System.Numerics;
using Vmm.Plugins.Ivshmem.SharedMemory;

namespace Vmm.Plugins.Ivshmem.Lgmp;

/// <summary>
/// The LGMP host: the producer that owns the layout of the shared memory (header, queues, allocations), posts
/// messages, and keeps the heartbeat and subscriber timeouts going (<see cref="Process"/>, every ~10 ms).
/// </summary>
/// <remarks>
/// Everything the layout depends on (queue count, ring sizes and offsets, the write position, the client ring's
/// read index) is kept in private fields and only written to shared memory, never read back: a hostile client can
/// only change the bookkeeping words it is allowed to write, and those are range-checked on every read.
/// Not thread-safe: one thread at a time (the KVMFR producer serialises its frame, cursor and heartbeat work).
/// </remarks>
internal sealed class LgmpHost
{
    private readonly SharedRegion _region;
    private readonly TimeProvider _time;
    private readonly List<LgmpHostQueue> _queues = [];
    private readonly long _startTimestamp;
    private long _nextFree;
    private bool _started;

    private LgmpHost(SharedRegion region, TimeProvider time, uint sessionId, long nextFree)
    {
        _region = region;
        _time = time;
        _startTimestamp = time.GetTimestamp();
        SessionId = sessionId;
        _nextFree = nextFree;
    }

    /// <summary>The session ID this host wrote (different from the one it found in shared memory).</summary>
    public uint SessionId { get; }

    /// <summary>The shared memory.</summary>
    public SharedRegion Region => _region;

    /// <summary>The queues created so far, in creation order.</summary>
    public IReadOnlyList<LgmpHostQueue> Queues => _queues;

    /// <summary>Bytes still free for allocations.</summary>
    public long Available => _region.Length - _nextFree;

    /// <summary>The host clock in ms, the domain of every time stored in shared memory. Starts at 1 (0 means "never").</summary>
    internal ulong NowMs => (ulong)_time.GetElapsedTime(_startTimestamp).Ticks / TimeSpan.TicksPerMillisecond + 1;

    /// <summary>
    /// Writes a new header (<c>lgmpHostInit</c>): a new session ID, the timestamp, version, no queues, and
    /// <paramref name="udata"/> (the KVMFR header). The magic is written last, so a client never sees a half-written
    /// header as valid.
    /// </summary>
    /// <returns><see cref="LgmpStatus.ErrInvalidSize"/> when the region cannot hold the header and udata or is 4 GiB or more.</returns>
    public static LgmpStatus Create(SharedRegion region, ReadOnlySpan<byte> udata, TimeProvider time, out LgmpHost? host)
    {
        ArgumentNullException.ThrowIfNull(region);
        ArgumentNullException.ThrowIfNull(time);
        host = null;
        if (region.Length > uint.MaxValue || !region.Contains(0, LgmpHeaderLayout.Size + (long)udata.Length))
        {
            return LgmpStatus.ErrInvalidSize;
        }

        uint previous = region.ReadU32(LgmpHeaderLayout.SessionId);
        uint sessionId;
        do
        {
            sessionId = (uint)Random.Shared.NextInt64(1, uint.MaxValue);
        }
        while (sessionId == previous);

        long nextFree = Align(LgmpHeaderLayout.Size + (long)udata.Length, LgmpProtocol.DefaultAlignment);
        host = new LgmpHost(region, time, sessionId, nextFree);
        region.StoreReleaseU32(LgmpHeaderLayout.Magic, 0);
        region.WriteU32(LgmpHeaderLayout.Version, LgmpProtocol.Version);
        region.WriteU32(LgmpHeaderLayout.SessionId, sessionId);
        region.StoreReleaseU64(LgmpHeaderLayout.Timestamp, host.NowMs);
        region.StoreReleaseU32(LgmpHeaderLayout.NumQueues, 0);
        region.WriteU32(LgmpHeaderLayout.UdataSize, (uint)udata.Length);
        udata.CopyTo(region.GetSpan(LgmpHeaderLayout.Udata, udata.Length));
        region.StoreReleaseU32(LgmpHeaderLayout.Magic, LgmpProtocol.Magic);
        return LgmpStatus.Ok;
    }

    /// <summary>
    /// Creates a queue (<c>lgmpHostQueueNew</c>) of <paramref name="length"/> messages (the ring gets one more slot),
    /// whose subscribers are marked BAD after holding the oldest message <paramref name="maxTimeMs"/> ms.
    /// </summary>
    public LgmpStatus CreateQueue(uint queueId, int length, uint maxTimeMs, out LgmpHostQueue? queue)
    {
        queue = null;
        if (_started)
        {
            return LgmpStatus.ErrHostStarted;
        }

        if (_queues.Count == LgmpProtocol.MaxQueues)
        {
            return LgmpStatus.ErrNoQueues;
        }

        if (length < 1 || length > 4096 || maxTimeMs == 0)
        {
            return LgmpStatus.ErrInvalidArgument;
        }

        int numMessages = length + 1;
        LgmpStatus status = Allocate((uint)(LgmpMessageLayout.Size * numMessages), 8, out LgmpMemory ring);
        if (status != LgmpStatus.Ok)
        {
            return status;
        }

        int index = _queues.Count;
        long header = LgmpHeaderLayout.Queue(index);
        _region.GetSpan(header, LgmpQueueLayout.Size).Clear();
        _region.GetSpan(ring.Offset, (int)ring.Size).Clear();
        _region.WriteU32(header + LgmpQueueLayout.QueueId, queueId);
        _region.WriteU32(header + LgmpQueueLayout.NumMessages, (uint)numMessages);
        _region.WriteU32(header + LgmpQueueLayout.MaxTime, maxTimeMs);
        _region.WriteU32(header + LgmpQueueLayout.MessagesOffset, ring.Offset);
        _region.WriteU32(header + LgmpQueueLayout.ClientMessageAvailable, LgmpProtocol.ClientMessageSlots);
        queue = new LgmpHostQueue(this, _region, index, queueId, numMessages, ring.Offset, maxTimeMs);
        _queues.Add(queue);
        _region.StoreReleaseU32(LgmpHeaderLayout.NumQueues, (uint)_queues.Count);
        return LgmpStatus.Ok;
    }

    /// <summary>
    /// Allocates <paramref name="size"/> bytes at an <paramref name="alignment"/>-aligned offset
    /// (<c>lgmpHostMemAllocAligned</c>); the size is rounded up to the alignment too. Allocations are permanent.
    /// </summary>
    public LgmpStatus Allocate(uint size, uint alignment, out LgmpMemory memory)
    {
        memory = default;
        if (alignment == 0 || !BitOperations.IsPow2(alignment))
        {
            return LgmpStatus.ErrInvalidAlignment;
        }

        long offset = Align(_nextFree, alignment);
        long rounded = Align(size, alignment);
        if (size == 0 || rounded > uint.MaxValue || !_region.Contains(offset, rounded))
        {
            return LgmpStatus.ErrNoSharedMem;
        }

        _nextFree = offset + rounded;
        memory = new LgmpMemory((uint)offset, (uint)rounded);
        return LgmpStatus.Ok;
    }

    /// <summary>Bytes left for an allocation at <paramref name="alignment"/>.</summary>
    public long AvailableAligned(uint alignment) => Math.Max(0, _region.Length - Align(_nextFree, alignment));

    /// <summary>
    /// The heartbeat (<c>lgmpHostProcess</c>): checks the magic, stores the timestamp, marks subscribers that held the
    /// oldest message past <c>maxTime</c> BAD, and retires messages every live subscriber has released.
    /// </summary>
    /// <returns><see cref="LgmpStatus.ErrCorrupted"/> when the magic was overwritten (the memory was reset): re-create the host.</returns>
    public LgmpStatus Process()
    {
        if (_region.LoadAcquireU32(LgmpHeaderLayout.Magic) != LgmpProtocol.Magic)
        {
            return LgmpStatus.ErrCorrupted;
        }

        ulong now = NowMs;
        _region.StoreReleaseU64(LgmpHeaderLayout.Timestamp, now);
        foreach (LgmpHostQueue queue in _queues)
        {
            queue.Process(now);
        }

        return LgmpStatus.Ok;
    }

    /// <summary>Marks the layout as fixed (the first post); no queue may be added after.</summary>
    internal void MarkStarted() => _started = true;

    private static long Align(long value, long alignment) => (value + alignment - 1) & ~(alignment - 1);
}

using Vmm.Plugins.Ivshmem.SharedMemory;

namespace Vmm.Plugins.Ivshmem.Lgmp;

/// <summary>
/// An LGMP client: the consumer side. It validates the header, joins a session, watches the heartbeat, and
/// subscribes to queues. Every word it reads from shared memory is copied to a local and checked before use.
/// </summary>
/// <remarks>
/// The startup rule of the B7 client: <see cref="Init"/> remembers the host's timestamp, and
/// <see cref="SessionInit"/> succeeds only when it has changed since (the host is alive). The B7 client waits
/// 200 ms in between; <see cref="StartupWaitElapsed"/> measures that wait on the injected <see cref="TimeProvider"/>.
/// Not thread-safe: use a client and its queues from one thread.
/// </remarks>
internal sealed class LgmpClient
{
    private readonly SharedRegion _region;
    private readonly TimeProvider _time;
    private ulong _initHostTime;
    private long _initAt;
    private ulong _hostTime;
    private long _lastHeartbeat;
    private bool _initialized;

    /// <summary>Creates a client of the LGMP host in <paramref name="region"/>, timed by <paramref name="time"/>.</summary>
    public LgmpClient(SharedRegion region, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(region);
        ArgumentNullException.ThrowIfNull(time);
        _region = region;
        _time = time;
    }

    /// <summary>The shared memory.</summary>
    public SharedRegion Region => _region;

    /// <summary>The session joined by the last successful <see cref="SessionInit"/>.</summary>
    public uint SessionId { get; private set; }

    /// <summary>This client's random ID, written into the <c>clientID</c> slot of each queue it subscribes to.</summary>
    public uint ClientId { get; private set; }

    /// <summary>Whether a session was joined and has not been found invalid since.</summary>
    public bool InSession { get; private set; }

    /// <summary>The startup wait between <see cref="Init"/> and <see cref="SessionInit"/> (B7: 200 ms).</summary>
    public TimeSpan StartupWait { get; init; } = TimeSpan.FromMilliseconds(LgmpProtocol.StartupWaitMs);

    /// <summary>How long the heartbeat may stand still before the session is given up (B7: 1000 ms).</summary>
    public TimeSpan HeartbeatTimeout { get; init; } = TimeSpan.FromMilliseconds(LgmpProtocol.HeartbeatTimeoutMs);

    /// <summary>Whether <see cref="StartupWait"/> has passed since <see cref="Init"/>.</summary>
    public bool StartupWaitElapsed => _initialized && _time.GetElapsedTime(_initAt) >= StartupWait;

    /// <summary>Starts joining (<c>lgmpClientInit</c>): remembers the host's timestamp and the time.</summary>
    /// <returns><see cref="LgmpStatus.ErrInvalidSize"/> when the region cannot hold an LGMP header.</returns>
    public LgmpStatus Init()
    {
        InSession = false;
        if (!_region.Contains(0, LgmpHeaderLayout.Size))
        {
            return LgmpStatus.ErrInvalidSize;
        }

        _initHostTime = _region.LoadAcquireU64(LgmpHeaderLayout.Timestamp);
        _initAt = _time.GetTimestamp();
        _initialized = true;
        return LgmpStatus.Ok;
    }

    /// <summary>
    /// Joins the session (<c>lgmpClientSessionInit</c>) and copies the header udata into
    /// <paramref name="udata"/>; <paramref name="udataSize"/> is its size (also when it did not fit).
    /// </summary>
    /// <returns>
    /// <see cref="LgmpStatus.ErrInvalidMagic"/>, <see cref="LgmpStatus.ErrInvalidVersion"/>,
    /// <see cref="LgmpStatus.ErrInvalidSession"/> (timestamp unchanged since <see cref="Init"/>, or the header changed
    /// while it was read: call <see cref="Init"/> again), <see cref="LgmpStatus.ErrCorrupted"/> (udata outside the
    /// region) or <see cref="LgmpStatus.ErrInvalidSize"/> (udata larger than the destination).
    /// </returns>
    public LgmpStatus SessionInit(Span<byte> udata, out int udataSize)
    {
        udataSize = 0;
        InSession = false;
        if (!_initialized)
        {
            return LgmpStatus.ErrInvalidSession;
        }

        if (_region.LoadAcquireU32(LgmpHeaderLayout.Magic) != LgmpProtocol.Magic)
        {
            return LgmpStatus.ErrInvalidMagic;
        }

        if (_region.ReadU32(LgmpHeaderLayout.Version) != LgmpProtocol.Version)
        {
            return LgmpStatus.ErrInvalidVersion;
        }

        ulong hostTime = _region.LoadAcquireU64(LgmpHeaderLayout.Timestamp);
        if (hostTime == _initHostTime)
        {
            return LgmpStatus.ErrInvalidSession;
        }

        uint sessionId = _region.ReadU32(LgmpHeaderLayout.SessionId);
        uint size = _region.ReadU32(LgmpHeaderLayout.UdataSize);
        if (!_region.Contains(LgmpHeaderLayout.Udata, size))
        {
            return LgmpStatus.ErrCorrupted;
        }

        udataSize = (int)size;
        if (size > (uint)udata.Length)
        {
            return LgmpStatus.ErrInvalidSize;
        }

        _region.GetReadOnlySpan(LgmpHeaderLayout.Udata, (int)size).CopyTo(udata);
        if (_region.ReadU32(LgmpHeaderLayout.SessionId) != sessionId || _region.LoadAcquireU32(LgmpHeaderLayout.Magic) != LgmpProtocol.Magic)
        {
            return LgmpStatus.ErrInvalidSession;
        }

        SessionId = sessionId;
        ClientId = (uint)Random.Shared.NextInt64(1, uint.MaxValue);
        _hostTime = hostTime;
        _lastHeartbeat = _time.GetTimestamp();
        InSession = true;
        return LgmpStatus.Ok;
    }

    /// <summary>
    /// Whether the session is still the one joined and alive (<c>lgmpClientSessionValid</c>): the session ID is
    /// unchanged, and the timestamp moved within <see cref="HeartbeatTimeout"/>. Call it every ~100 ms or more often.
    /// </summary>
    public bool SessionValid()
    {
        if (!InSession)
        {
            return false;
        }

        if (_region.LoadAcquireU32(LgmpHeaderLayout.Magic) != LgmpProtocol.Magic || _region.ReadU32(LgmpHeaderLayout.SessionId) != SessionId)
        {
            InSession = false;
            return false;
        }

        ulong hostTime = _region.LoadAcquireU64(LgmpHeaderLayout.Timestamp);
        if (hostTime != _hostTime)
        {
            _hostTime = hostTime;
            _lastHeartbeat = _time.GetTimestamp();
        }
        else if (_time.GetElapsedTime(_lastHeartbeat) > HeartbeatTimeout)
        {
            InSession = false;
            return false;
        }

        return true;
    }

    /// <summary>
    /// Subscribes to the queue with <paramref name="queueId"/> (<c>lgmpClientSubscribe</c>): reaps BAD slots whose
    /// reap time has passed, takes the lowest free slot, and starts at the current position (new messages only).
    /// </summary>
    /// <returns>
    /// <see cref="LgmpStatus.ErrNoSuchQueue"/> (retry: the host may still be creating it),
    /// <see cref="LgmpStatus.ErrQueueFull"/> (32 subscribers), <see cref="LgmpStatus.ErrCorrupted"/> (the queue header
    /// breaks the layout, or its lock stayed taken) or <see cref="LgmpStatus.ErrInvalidSession"/>.
    /// </returns>
    public LgmpStatus Subscribe(uint queueId, out LgmpClientQueue? queue)
    {
        queue = null;
        if (!InSession)
        {
            return LgmpStatus.ErrInvalidSession;
        }

        uint numQueues = Math.Min(_region.LoadAcquireU32(LgmpHeaderLayout.NumQueues), LgmpProtocol.MaxQueues);
        int index = -1;
        for (int i = 0; i < numQueues; i++)
        {
            if (_region.ReadU32(LgmpHeaderLayout.Queue(i) + LgmpQueueLayout.QueueId) == queueId)
            {
                index = i;
                break;
            }
        }

        if (index < 0)
        {
            return LgmpStatus.ErrNoSuchQueue;
        }

        long header = LgmpHeaderLayout.Queue(index);
        uint numMessages = _region.ReadU32(header + LgmpQueueLayout.NumMessages);
        uint messagesOffset = _region.ReadU32(header + LgmpQueueLayout.MessagesOffset);
        uint maxTime = _region.ReadU32(header + LgmpQueueLayout.MaxTime);
        if (numMessages < 2 || numMessages > 4097 || messagesOffset % 4 != 0
            || !_region.Contains(messagesOffset, (long)numMessages * LgmpMessageLayout.Size))
        {
            return LgmpStatus.ErrCorrupted;
        }

        long lockOffset = header + LgmpQueueLayout.Lock;
        if (!SharedSpinLock.Enter(_region, lockOffset))
        {
            return LgmpStatus.ErrCorrupted;
        }

        try
        {
            ulong subs = _region.LoadAcquireU64(header + LgmpQueueLayout.Subs);
            ulong hostTime = _region.LoadAcquireU64(LgmpHeaderLayout.Timestamp);
            for (uint bad = LgmpQueueLayout.Bad(subs); bad != 0; bad &= bad - 1)
            {
                int slot = System.Numerics.BitOperations.TrailingZeroCount(bad);
                if (_region.ReadU64(header + LgmpQueueLayout.TimeoutOf(slot)) < hostTime)
                {
                    subs = LgmpQueueLayout.Clear(subs, 1u << slot);
                    _region.WriteU64(header + LgmpQueueLayout.TimeoutOf(slot), 0);
                    _region.WriteU32(header + LgmpQueueLayout.ClientIdOf(slot), 0);
                }
            }

            uint free = ~(LgmpQueueLayout.On(subs) | LgmpQueueLayout.Bad(subs));
            if (free == 0)
            {
                _region.StoreReleaseU64(header + LgmpQueueLayout.Subs, subs);
                return LgmpStatus.ErrQueueFull;
            }

            uint position = _region.LoadAcquireU32(header + LgmpQueueLayout.Position);
            if (position >= numMessages)
            {
                return LgmpStatus.ErrCorrupted;
            }

            int id = System.Numerics.BitOperations.TrailingZeroCount(free);
            _region.WriteU64(header + LgmpQueueLayout.TimeoutOf(id), 0);
            _region.WriteU32(header + LgmpQueueLayout.ClientIdOf(id), ClientId);
            _region.StoreReleaseU64(header + LgmpQueueLayout.Subs, LgmpQueueLayout.SetOn(subs, 1u << id));
            _region.FetchAddU32(header + LgmpQueueLayout.NewSubCount, 1);
            queue = new LgmpClientQueue(this, _region, header, queueId, id, (int)numMessages, messagesOffset, maxTime, position);
            return LgmpStatus.Ok;
        }
        finally
        {
            SharedSpinLock.Exit(_region, lockOffset);
        }
    }
}

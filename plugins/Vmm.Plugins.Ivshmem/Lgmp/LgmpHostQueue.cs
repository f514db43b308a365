using System.Numerics;
using Vmm.Plugins.Ivshmem.SharedMemory;

namespace Vmm.Plugins.Ivshmem.Lgmp;

/// <summary>
/// One host queue: posting (<c>lgmpHostQueuePost</c>), retiring in <see cref="Process"/>, the new-subscriber count,
/// and the client-to-host data ring. Messages are numbered by a host-private sequence so that a caller can tell when
/// the buffer it posted has been released by every subscriber (<see cref="IsRetired"/>).
/// </summary>
internal sealed class LgmpHostQueue
{
    private readonly LgmpHost _host;
    private readonly SharedRegion _region;
    private readonly long _header;
    private readonly uint _messagesOffset;
    private readonly uint _maxTimeMs;
    private readonly Lock _gate = new();
    private readonly HostSharedLock _lock;
    private readonly HostSharedLock _clientMessageLock;
    private uint _position;
    private int _clientReadPosition;
    private long _posted;

    internal LgmpHostQueue(LgmpHost host, SharedRegion region, int index, uint queueId, int numMessages, uint messagesOffset, uint maxTimeMs)
    {
        _host = host;
        _region = region;
        _header = LgmpHeaderLayout.Queue(index);
        QueueId = queueId;
        NumMessages = numMessages;
        _messagesOffset = messagesOffset;
        _maxTimeMs = maxTimeMs;
        _lock = new HostSharedLock(region, _header + LgmpQueueLayout.Lock);
        _clientMessageLock = new HostSharedLock(region, _header + LgmpQueueLayout.ClientMessageLock);
    }

    /// <summary>The app's queue ID (KVMFR: 1 pointer, 2 frame).</summary>
    public uint QueueId { get; }

    /// <summary>Ring slots: the queue length + 1.</summary>
    public int NumMessages { get; }

    /// <summary>Messages posted and not yet retired (a hostile value is clamped to the ring).</summary>
    public int Pending => (int)Math.Min(_region.LoadAcquireU32(_header + LgmpQueueLayout.Count), (uint)(NumMessages - 1));

    /// <summary>Whether any subscriber is ON and not BAD, i.e. whether a post would be delivered.</summary>
    public bool HasSubscribers
    {
        get
        {
            ulong subs = _region.LoadAcquireU64(_header + LgmpQueueLayout.Subs);
            return (LgmpQueueLayout.On(subs) & ~LgmpQueueLayout.Bad(subs)) != 0;
        }
    }

    /// <summary>
    /// Posts a message under the queue lock: <c>pendingSubs</c> is the snapshot of live subscribers. With no live
    /// subscriber nothing is posted, <see cref="LgmpStatus.Ok"/> is returned and <paramref name="sequence"/> is -1.
    /// </summary>
    /// <param name="udata">The message's app value.</param>
    /// <param name="memory">The payload (an allocation of this host).</param>
    /// <param name="sequence">The message's sequence number for <see cref="IsRetired"/>, or -1 when not posted.</param>
    /// <returns><see cref="LgmpStatus.ErrQueueFull"/> when the ring has no free slot or a client holds the queue lock (retry).</returns>
    public LgmpStatus Post(uint udata, LgmpMemory memory, out long sequence)
    {
        sequence = -1;
        _host.MarkStarted();
        lock (_gate)
        {
            if (!_lock.TryEnter())
            {
                return LgmpStatus.ErrQueueFull;
            }

            try
            {
                return PostLocked(udata, memory, out sequence);
            }
            finally
            {
                _lock.Exit();
            }
        }
    }

    private LgmpStatus PostLocked(uint udata, LgmpMemory memory, out long sequence)
    {
        sequence = -1;
        ulong subs = _region.LoadAcquireU64(_header + LgmpQueueLayout.Subs);
        uint pending = LgmpQueueLayout.On(subs) & ~LgmpQueueLayout.Bad(subs);
        if (pending == 0)
        {
            return LgmpStatus.Ok;
        }

        if (_region.LoadAcquireU32(_header + LgmpQueueLayout.Count) >= (uint)(NumMessages - 1))
        {
            return LgmpStatus.ErrQueueFull;
        }

        long message = _messagesOffset + ((long)LgmpMessageLayout.Size * _position);
        _region.WriteU32(message + LgmpMessageLayout.Udata, udata);
        _region.WriteU32(message + LgmpMessageLayout.PayloadSize, memory.Size);
        _region.WriteU32(message + LgmpMessageLayout.PayloadOffset, memory.Offset);
        _region.StoreReleaseU32(message + LgmpMessageLayout.PendingSubs, pending);
        if (_region.FetchAddU32(_header + LgmpQueueLayout.Count, 1) == 0)
        {
            _region.StoreReleaseU64(_header + LgmpQueueLayout.MsgTimeout, _host.NowMs + _maxTimeMs);
        }

        _position = (uint)((_position + 1) % NumMessages);
        _region.StoreReleaseU32(_header + LgmpQueueLayout.Position, _position);
        sequence = _posted++;
        return LgmpStatus.Ok;
    }

    /// <summary>
    /// Whether the message posted as <paramref name="sequence"/> has been retired (released by every subscriber or
    /// timed out), so its payload may be rewritten. -1 (never posted) is retired.
    /// </summary>
    public bool IsRetired(long sequence)
    {
        lock (_gate)
        {
            return sequence < 0 || sequence < _posted - Pending;
        }
    }

    /// <summary>The number of clients that subscribed since the last call (<c>lgmpHostQueueNewSubs</c>); zeroes it.</summary>
    public int TakeNewSubscribers() => (int)Math.Min(_region.ExchangeU32(_header + LgmpQueueLayout.NewSubCount, 0), LgmpProtocol.MaxSubscribers * 2u);

    /// <summary>
    /// Reads the next client-to-host message (<c>lgmpHostReadData</c>) into <paramref name="destination"/>
    /// (64 bytes is always enough); <paramref name="length"/> is its size, clamped to 64.
    /// </summary>
    /// <returns><see cref="LgmpStatus.ErrQueueEmpty"/> when there is none.</returns>
    public LgmpStatus ReadData(Span<byte> destination, out int length)
    {
        length = 0;
        if (_region.LoadAcquireU32(_header + LgmpQueueLayout.ClientMessageAvailable) >= LgmpProtocol.ClientMessageSlots)
        {
            return LgmpStatus.ErrQueueEmpty;
        }

        lock (_gate)
        {
            if (!_clientMessageLock.TryEnter())
            {
                return LgmpStatus.ErrQueueEmpty;
            }

            try
            {
                return ReadDataLocked(destination, out length);
            }
            finally
            {
                _clientMessageLock.Exit();
            }
        }
    }

    private LgmpStatus ReadDataLocked(Span<byte> destination, out int length)
    {
        long slot = _header + LgmpQueueLayout.ClientMessageOf(_clientReadPosition);
        uint size = _region.ReadU32(slot + LgmpClientMessageLayout.DataSize);
        length = (int)Math.Min(Math.Min(size, (uint)LgmpProtocol.ClientMessageMaxSize), (uint)destination.Length);
        _region.GetReadOnlySpan(slot + LgmpClientMessageLayout.Data, length).CopyTo(destination);
        _clientReadPosition = (_clientReadPosition + 1) % LgmpProtocol.ClientMessageSlots;
        _region.FetchAddU32(_header + LgmpQueueLayout.ClientMessageAvailable, 1);
        return LgmpStatus.Ok;
    }

    /// <summary>Acknowledges one handled client message (<c>lgmpHostAckData</c>): <c>cMsgRSerial++</c>.</summary>
    public void AckData() => _region.FetchAddU32(_header + LgmpQueueLayout.ClientMessageReadSerial, 1);

    /// <summary>The retire pass of <see cref="LgmpHost.Process"/> for this queue, at host time <paramref name="now"/>.</summary>
    internal void Process(ulong now)
    {
        if (_region.LoadAcquireU32(_header + LgmpQueueLayout.Count) == 0)
        {
            return;
        }

        lock (_gate)
        {
            if (!_lock.TryEnter())
            {
                return; // a client holds it: the next heartbeat retires
            }

            try
            {
                ProcessLocked(now);
            }
            finally
            {
                _lock.Exit();
            }
        }
    }

    private void ProcessLocked(ulong now)
    {
        ulong subs = _region.LoadAcquireU64(_header + LgmpQueueLayout.Subs);
        uint count = _region.LoadAcquireU32(_header + LgmpQueueLayout.Count);
        if (count > (uint)(NumMessages - 1))
        {
            // A client wrote nonsense; the ring cannot hold more than this.
            count = (uint)(NumMessages - 1);
            _region.StoreReleaseU32(_header + LgmpQueueLayout.Count, count);
        }

        for (int i = 0; i < NumMessages && count > 0; i++)
        {
            uint start = _region.ReadU32(_header + LgmpQueueLayout.Start) % (uint)NumMessages;
            long message = _messagesOffset + ((long)LgmpMessageLayout.Size * start);
            uint pending = _region.LoadAcquireU32(message + LgmpMessageLayout.PendingSubs) & LgmpQueueLayout.On(subs);
            uint newBad = pending & ~LgmpQueueLayout.Bad(subs);
            if (newBad != 0 && now > _region.LoadAcquireU64(_header + LgmpQueueLayout.MsgTimeout))
            {
                subs = LgmpQueueLayout.SetBad(subs, newBad);
                for (uint bits = newBad; bits != 0; bits &= bits - 1)
                {
                    _region.WriteU64(_header + LgmpQueueLayout.TimeoutOf(BitOperations.TrailingZeroCount(bits)), now + _maxTimeMs);
                }

                _region.StoreReleaseU32(message + LgmpMessageLayout.PendingSubs, 0);
            }

            if ((pending & ~LgmpQueueLayout.Bad(subs)) != 0)
            {
                break;
            }

            _region.WriteU32(_header + LgmpQueueLayout.Start, (start + 1) % (uint)NumMessages);
            count = _region.FetchAddU32(_header + LgmpQueueLayout.Count, uint.MaxValue) - 1;
            if (count > (uint)NumMessages)
            {
                // Another writer took it below zero: nothing is pending.
                _region.StoreReleaseU32(_header + LgmpQueueLayout.Count, 0);
                break;
            }

            if (count == 0)
            {
                break;
            }

            _region.StoreReleaseU64(_header + LgmpQueueLayout.MsgTimeout, now + _maxTimeMs);
        }

        _region.StoreReleaseU64(_header + LgmpQueueLayout.Subs, subs);
    }
}

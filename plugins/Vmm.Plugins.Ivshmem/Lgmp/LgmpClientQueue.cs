using Vmm.Plugins.Ivshmem.SharedMemory;

namespace Vmm.Plugins.Ivshmem.Lgmp;

/// <summary>
/// A client's subscription to one queue: read the oldest unread message (<see cref="Process"/>), release it
/// (<see cref="MessageDone"/>, the ack), skip to the newest, unsubscribe, and send data to the host. The ring's size
/// and offset were checked at subscribe time and are never re-read; every other word is range-checked as read.
/// </summary>
internal sealed class LgmpClientQueue
{
    private readonly LgmpClient _client;
    private readonly SharedRegion _region;
    private readonly long _header;
    private readonly uint _bit;
    private readonly uint _messagesOffset;
    private readonly uint _maxTimeMs;
    private uint _position;

    internal LgmpClientQueue(LgmpClient client, SharedRegion region, long header, uint queueId, int slot, int numMessages, uint messagesOffset, uint maxTimeMs, uint position)
    {
        _client = client;
        _region = region;
        _header = header;
        QueueId = queueId;
        Slot = slot;
        _bit = 1u << slot;
        NumMessages = numMessages;
        _messagesOffset = messagesOffset;
        _maxTimeMs = maxTimeMs;
        _position = position;
    }

    /// <summary>The queue's app ID.</summary>
    public uint QueueId { get; }

    /// <summary>This client's subscriber slot (0..31).</summary>
    public int Slot { get; }

    /// <summary>The ring's slot count.</summary>
    public int NumMessages { get; }

    /// <summary>Whether this client still holds its subscription (not unsubscribed by itself).</summary>
    public bool Subscribed { get; private set; } = true;

    /// <summary>
    /// The oldest message this client has not released (<c>lgmpClientProcess</c>), copied and checked; it stays
    /// unreleased until <see cref="MessageDone"/>.
    /// </summary>
    /// <returns>
    /// <see cref="LgmpStatus.ErrQueueEmpty"/>, <see cref="LgmpStatus.ErrQueueTimeout"/> (marked BAD by the host),
    /// <see cref="LgmpStatus.ErrQueueUnsubscribed"/>, <see cref="LgmpStatus.ErrInvalidSession"/>, or
    /// <see cref="LgmpStatus.ErrCorrupted"/> (position or payload outside the ring or region; the session is unusable).
    /// </returns>
    public LgmpStatus Process(out LgmpMessage message)
    {
        message = default;
        LgmpStatus status = CheckUnread(out _);
        if (status != LgmpStatus.Ok)
        {
            return status;
        }

        long at = MessageAt(_position);
        uint udata = _region.ReadU32(at + LgmpMessageLayout.Udata);
        uint size = _region.ReadU32(at + LgmpMessageLayout.PayloadSize);
        uint offset = _region.ReadU32(at + LgmpMessageLayout.PayloadOffset);
        if (!_region.Contains(offset, size))
        {
            return LgmpStatus.ErrCorrupted;
        }

        message = new LgmpMessage(udata, offset, size);
        return LgmpStatus.Ok;
    }

    /// <summary>
    /// Releases the message <see cref="Process"/> returned (<c>lgmpClientMessageDone</c>): clears this client's bit in
    /// its <c>pendingSubs</c>, retires it when this was the last holder and the lock is free, and moves on.
    /// </summary>
    /// <returns><see cref="LgmpStatus.ErrQueueEmpty"/> when there was nothing to release.</returns>
    public LgmpStatus MessageDone()
    {
        if (!Subscribed)
        {
            return LgmpStatus.ErrQueueUnsubscribed;
        }

        uint position = _region.LoadAcquireU32(_header + LgmpQueueLayout.Position);
        if (position == _position)
        {
            return LgmpStatus.ErrQueueEmpty;
        }

        Release(_position);
        _position = Next(_position);
        return LgmpStatus.Ok;
    }

    /// <summary>
    /// Releases every unread message but the newest and leaves this client on the newest (<c>lgmpClientAdvanceToLast</c>),
    /// which <see cref="Process"/> returns next.
    /// </summary>
    public LgmpStatus AdvanceToLast()
    {
        LgmpStatus status = CheckUnread(out uint position);
        if (status != LgmpStatus.Ok)
        {
            return status;
        }

        for (int i = 0; i < NumMessages && Next(_position) != position; i++)
        {
            Release(_position);
            _position = Next(_position);
        }

        return LgmpStatus.Ok;
    }

    /// <summary>Gives the subscriber slot back (<c>lgmpClientUnsubscribe</c>): clears ON, BAD, the timeout and client ID.</summary>
    public LgmpStatus Unsubscribe()
    {
        if (!Subscribed)
        {
            return LgmpStatus.ErrQueueUnsubscribed;
        }

        Subscribed = false;
        long lockOffset = _header + LgmpQueueLayout.Lock;
        if (!SharedSpinLock.Enter(_region, lockOffset))
        {
            return LgmpStatus.ErrCorrupted;
        }

        try
        {
            ulong subs = _region.LoadAcquireU64(_header + LgmpQueueLayout.Subs);
            _region.StoreReleaseU64(_header + LgmpQueueLayout.Subs, LgmpQueueLayout.Clear(subs, _bit));
            _region.WriteU64(_header + LgmpQueueLayout.TimeoutOf(Slot), 0);
            _region.WriteU32(_header + LgmpQueueLayout.ClientIdOf(Slot), 0);
            return LgmpStatus.Ok;
        }
        finally
        {
            SharedSpinLock.Exit(_region, lockOffset);
        }
    }

    /// <summary>
    /// Sends up to 64 bytes to the host (<c>lgmpClientSendData</c>); <paramref name="serial"/> is the message's serial:
    /// the host has handled it once <see cref="GetSerial"/> reaches it.
    /// </summary>
    /// <returns><see cref="LgmpStatus.ErrQueueFull"/> when the host has not drained the 10-slot ring.</returns>
    public LgmpStatus SendData(ReadOnlySpan<byte> data, out uint serial)
    {
        serial = 0;
        if (data.Length > LgmpProtocol.ClientMessageMaxSize)
        {
            return LgmpStatus.ErrInvalidSize;
        }

        LgmpStatus status = CheckSubscription();
        if (status != LgmpStatus.Ok)
        {
            return status;
        }

        long lockOffset = _header + LgmpQueueLayout.ClientMessageLock;
        if (!SharedSpinLock.Enter(_region, lockOffset))
        {
            return LgmpStatus.ErrCorrupted;
        }

        try
        {
            uint available = _region.LoadAcquireU32(_header + LgmpQueueLayout.ClientMessageAvailable);
            if (available == 0 || available > LgmpProtocol.ClientMessageSlots)
            {
                return LgmpStatus.ErrQueueFull;
            }

            uint writePosition = _region.ReadU32(_header + LgmpQueueLayout.ClientMessageWritePosition);
            if (writePosition >= LgmpProtocol.ClientMessageSlots)
            {
                return LgmpStatus.ErrCorrupted;
            }

            long slot = _header + LgmpQueueLayout.ClientMessageOf((int)writePosition);
            _region.WriteU32(slot + LgmpClientMessageLayout.DataSize, (uint)data.Length);
            data.CopyTo(_region.GetSpan(slot + LgmpClientMessageLayout.Data, data.Length));
            _region.WriteU32(_header + LgmpQueueLayout.ClientMessageWritePosition, (writePosition + 1) % LgmpProtocol.ClientMessageSlots);
            _region.FetchAddU32(_header + LgmpQueueLayout.ClientMessageAvailable, uint.MaxValue);
            serial = _region.FetchAddU32(_header + LgmpQueueLayout.ClientMessageWriteSerial, 1) + 1;
            return LgmpStatus.Ok;
        }
        finally
        {
            SharedSpinLock.Exit(_region, lockOffset);
        }
    }

    /// <summary>The serial of the last client message the host handled (<c>lgmpClientGetSerial</c>).</summary>
    public LgmpStatus GetSerial(out uint serial)
    {
        serial = _region.LoadAcquireU32(_header + LgmpQueueLayout.ClientMessageReadSerial);
        return LgmpStatus.Ok;
    }

    /// <summary>
    /// Whether a message waits for this client: still subscribed, the host's write position (<paramref name="position"/>)
    /// inside the ring, and ahead of this client's.
    /// </summary>
    private LgmpStatus CheckUnread(out uint position)
    {
        position = 0;
        LgmpStatus status = CheckSubscription();
        if (status != LgmpStatus.Ok)
        {
            return status;
        }

        position = _region.LoadAcquireU32(_header + LgmpQueueLayout.Position);
        if (position >= (uint)NumMessages)
        {
            return LgmpStatus.ErrCorrupted;
        }

        return position == _position ? LgmpStatus.ErrQueueEmpty : LgmpStatus.Ok;
    }

    private LgmpStatus CheckSubscription()
    {
        if (!Subscribed)
        {
            return LgmpStatus.ErrQueueUnsubscribed;
        }

        ulong subs = _region.LoadAcquireU64(_header + LgmpQueueLayout.Subs);
        if ((LgmpQueueLayout.Bad(subs) & _bit) != 0)
        {
            return LgmpStatus.ErrQueueTimeout;
        }

        if ((LgmpQueueLayout.On(subs) & _bit) == 0)
        {
            return _client.SessionValid() ? LgmpStatus.ErrQueueUnsubscribed : LgmpStatus.ErrInvalidSession;
        }

        return LgmpStatus.Ok;
    }

    private void Release(uint position)
    {
        long at = MessageAt(position);
        uint before = _region.FetchAndU32(at + LgmpMessageLayout.PendingSubs, ~_bit);
        if ((before & ~_bit) != 0)
        {
            return;
        }

        long lockOffset = _header + LgmpQueueLayout.Lock;
        if (!SharedSpinLock.TryEnter(_region, lockOffset))
        {
            return; // the host's Process retires it
        }

        try
        {
            if (_region.ReadU32(_header + LgmpQueueLayout.Start) == position && _region.LoadAcquireU32(_header + LgmpQueueLayout.Count) != 0)
            {
                _region.WriteU32(_header + LgmpQueueLayout.Start, Next(position));
                _region.FetchAddU32(_header + LgmpQueueLayout.Count, uint.MaxValue);
                ulong hostTime = _region.LoadAcquireU64(LgmpHeaderLayout.Timestamp);
                _region.StoreReleaseU64(_header + LgmpQueueLayout.MsgTimeout, hostTime + _maxTimeMs);
            }
        }
        finally
        {
            SharedSpinLock.Exit(_region, lockOffset);
        }
    }

    private long MessageAt(uint position) => _messagesOffset + ((long)LgmpMessageLayout.Size * position);

    private uint Next(uint position) => (position + 1) % (uint)NumMessages;
}

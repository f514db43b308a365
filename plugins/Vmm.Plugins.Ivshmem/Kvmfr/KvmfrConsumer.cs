using System.Buffers.Binary;
using System.Diagnostics;
using Vmm.Contracts.Display;
using Vmm.Plugins.Ivshmem.Lgmp;
using Vmm.Plugins.Ivshmem.SharedMemory;

namespace Vmm.Plugins.Ivshmem.Kvmfr;

/// <summary>How a <see cref="KvmfrConsumer"/> waits.</summary>
internal sealed record KvmfrConsumerOptions
{
    /// <summary>The LGMP startup wait (B7: 200 ms) between init and requiring a moved heartbeat.</summary>
    public TimeSpan StartupWait { get; init; } = TimeSpan.FromMilliseconds(LgmpProtocol.StartupWaitMs);

    /// <summary>How long the heartbeat may stand still before the session counts as lost (B7: 1000 ms).</summary>
    public TimeSpan HeartbeatTimeout { get; init; } = TimeSpan.FromMilliseconds(LgmpProtocol.HeartbeatTimeoutMs);

    /// <summary>
    /// The longest one frame may wait for the producer's <c>wp</c> to advance (real time). A frame not complete by then
    /// is released unfinished and the next one is copied in full. Keep it well under the producer's subscriber timeout.
    /// </summary>
    public TimeSpan FrameWaitTimeout { get; init; } = TimeSpan.FromMilliseconds(200);
}

/// <summary>
/// The KVMFR consumer (the LGMP client role, what <c>looking-glass-client</c> is): joins and re-joins sessions,
/// subscribes to the frame and pointer queues, copies each frame out while the producer still streams it, releases
/// it right after the copy, and turns cursor messages into BGRA shapes and positions.
/// </summary>
/// <remarks>
/// <para>Hostile memory: every header (queue, message, frame, cursor) is copied into locals and checked before use,
/// every offset and size is checked against the region and the message's payload, and every wait is bounded.
/// Nothing is read outside the region; bad data ends the session (<see cref="LgmpStatus.ErrCorrupted"/>) or drops
/// the one message.</para>
/// <para>Threading: call <see cref="Poll"/> from one thread (every ~1 ms for low latency); the handler runs on it.
/// <see cref="RequestCursorPosition"/> may be called from any thread.</para>
/// </remarks>
internal sealed class KvmfrConsumer
{
    private const int MaxDimension = 16384;

    private readonly LgmpClient _client;
    private readonly SharedRegion _region;
    private readonly KvmfrConsumerOptions _options;
    private readonly Lock _gate = new();
    private readonly byte[] _udata = new byte[KvmfrHeader.MaxUdataSize];
    private readonly DamageRect[] _damage = new DamageRect[KvmfrProtocol.MaxDamageRects];
    private readonly byte[] _cursor = new byte[KvmfrProtocol.MaxCursorDimension * KvmfrProtocol.MaxCursorDimension * 4];
    private LgmpClientQueue? _frameQueue;
    private LgmpClientQueue? _pointerQueue;
    private KvmfrHeader? _header;
    private bool _initialized;
    private bool _haveFrame;
    private bool _needFullCopy = true;
    private uint _lastSerial;
    private uint _formatVersion;
    private KvmfrFrameFormat _format;
    private int _cursorX;
    private int _cursorY;
    private int _hotX;
    private int _hotY;

    /// <summary>A consumer of the producer in <paramref name="region"/>, timed by <paramref name="time"/> (heartbeat and startup).</summary>
    public KvmfrConsumer(SharedRegion region, KvmfrConsumerOptions options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        _region = region;
        _options = options;
        _client = new LgmpClient(region, time) { StartupWait = options.StartupWait, HeartbeatTimeout = options.HeartbeatTimeout };
    }

    /// <summary>Where the consumer is.</summary>
    public KvmfrConsumerState State { get; private set; }

    /// <summary>The joined session's KVMFR header, or null.</summary>
    public KvmfrHeader? Header => _header;

    /// <summary>The status of the last failed attempt to join or stay in a session (for diagnostics).</summary>
    public LgmpStatus LastError { get; private set; }

    /// <summary>Frames copied out.</summary>
    public long FramesReceived { get; private set; }

    /// <summary>Frames dropped: duplicates (re-posts), invalid headers, skipped by the handler, or <c>wp</c> that stopped.</summary>
    public long FramesDropped { get; private set; }

    /// <summary>
    /// Does what is due: joins a session, subscribes, checks the heartbeat, and handles every waiting cursor message
    /// and frame (each frame released as soon as it is copied). Returns quickly when there is nothing to do.
    /// </summary>
    public void Poll(IKvmfrConsumerHandler handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        lock (_gate)
        {
            switch (State)
            {
                case KvmfrConsumerState.WaitingForSession:
                    TryJoin();
                    break;
                case KvmfrConsumerState.Subscribing:
                    TrySubscribe(handler);
                    break;
                case KvmfrConsumerState.Connected:
                    if (!_client.SessionValid())
                    {
                        Lose(handler, LgmpStatus.ErrInvalidSession, unsubscribe: false);
                        return;
                    }

                    if (PollCursor(handler))
                    {
                        PollFrames(handler);
                    }

                    break;
            }
        }
    }

    /// <summary>
    /// Asks the producer to move the guest cursor to (<paramref name="x"/>, <paramref name="y"/>) (<c>KVMFRSetCursorPos</c>),
    /// only when it advertises the feature. Does not wait for the producer's ack.
    /// </summary>
    /// <returns>False when not connected, not advertised, or the client ring is full.</returns>
    public bool RequestCursorPosition(int x, int y)
    {
        lock (_gate)
        {
            if (State != KvmfrConsumerState.Connected || _pointerQueue is null || _header is null
                || (_header.Features & KvmfrFeatures.SetCursorPos) == 0)
            {
                return false;
            }

            Span<byte> message = stackalloc byte[KvmfrSetCursorPosLayout.Size];
            BinaryPrimitives.WriteUInt32LittleEndian(message[KvmfrSetCursorPosLayout.Type..], KvmfrSetCursorPosLayout.MessageType);
            BinaryPrimitives.WriteInt32LittleEndian(message[KvmfrSetCursorPosLayout.X..], x);
            BinaryPrimitives.WriteInt32LittleEndian(message[KvmfrSetCursorPosLayout.Y..], y);
            return _pointerQueue.SendData(message, out _) == LgmpStatus.Ok;
        }
    }

    private void TryJoin()
    {
        if (!_initialized)
        {
            LastError = _client.Init();
            _initialized = LastError == LgmpStatus.Ok;
            return;
        }

        if (!_client.StartupWaitElapsed)
        {
            return;
        }

        LgmpStatus status = _client.SessionInit(_udata, out int size);
        if (status != LgmpStatus.Ok)
        {
            LastError = status;
            _client.Init(); // a new startup wait, then try again
            return;
        }

        if (!KvmfrHeader.TryParse(_udata.AsSpan(0, size), out KvmfrHeader? header) || header!.Version != KvmfrProtocol.Version)
        {
            LastError = LgmpStatus.ErrInvalidVersion;
            _client.Init();
            return;
        }

        _header = header;
        State = KvmfrConsumerState.Subscribing;
    }

    private void TrySubscribe(IKvmfrConsumerHandler handler)
    {
        if (!_client.SessionValid())
        {
            Lose(handler: null, LgmpStatus.ErrInvalidSession, unsubscribe: false);
            return;
        }

        if (_frameQueue is null)
        {
            LgmpStatus status = _client.Subscribe(KvmfrProtocol.FrameQueueId, out _frameQueue);
            if (status != LgmpStatus.Ok)
            {
                FailSubscribe(status);
                return;
            }
        }

        if (_pointerQueue is null)
        {
            LgmpStatus status = _client.Subscribe(KvmfrProtocol.PointerQueueId, out _pointerQueue);
            if (status != LgmpStatus.Ok)
            {
                FailSubscribe(status);
                return;
            }
        }

        _haveFrame = false;
        _needFullCopy = true;
        State = KvmfrConsumerState.Connected;
        handler.SessionStarted(_header!);
    }

    private void FailSubscribe(LgmpStatus status)
    {
        LastError = status;
        if (status != LgmpStatus.ErrNoSuchQueue)
        {
            Lose(handler: null, status, unsubscribe: true);
        }
    }

    private void Lose(IKvmfrConsumerHandler? handler, LgmpStatus reason, bool unsubscribe)
    {
        if (unsubscribe)
        {
            _frameQueue?.Unsubscribe();
            _pointerQueue?.Unsubscribe();
        }

        _frameQueue = null;
        _pointerQueue = null;
        _header = null;
        _initialized = false;
        LastError = reason;
        bool wasConnected = State == KvmfrConsumerState.Connected;
        State = KvmfrConsumerState.WaitingForSession;
        if (wasConnected)
        {
            handler?.SessionLost(reason);
        }
    }

    private bool PollCursor(IKvmfrConsumerHandler handler)
    {
        for (int i = 0; i < _pointerQueue!.NumMessages; i++)
        {
            LgmpStatus status = _pointerQueue.Process(out LgmpMessage message);
            if (status == LgmpStatus.ErrQueueEmpty)
            {
                return true;
            }

            if (status != LgmpStatus.Ok)
            {
                Lose(handler, status, unsubscribe: status != LgmpStatus.ErrInvalidSession);
                return false;
            }

            HandleCursor(handler, message);
        }

        return true;
    }

    private bool PollFrames(IKvmfrConsumerHandler handler)
    {
        for (int i = 0; i < _frameQueue!.NumMessages; i++)
        {
            LgmpStatus status = _frameQueue.Process(out LgmpMessage message);
            if (status == LgmpStatus.ErrQueueEmpty)
            {
                return true;
            }

            if (status != LgmpStatus.Ok)
            {
                Lose(handler, status, unsubscribe: status != LgmpStatus.ErrInvalidSession);
                return false;
            }

            HandleFrame(handler, message);
        }

        return true;
    }

    private void HandleFrame(IKvmfrConsumerHandler handler, LgmpMessage message)
    {
        if (!TryReadFrame(message, out KvmfrFrameInfo info, out long pixels, out long writePointer, out int damageCount))
        {
            DropFrame();
            return;
        }

        if (_haveFrame && info.Serial == _lastSerial)
        {
            // A re-post for a new subscriber: we have it already.
            _frameQueue!.MessageDone();
            FramesDropped++;
            return;
        }

        bool modeChanged = !_haveFrame || info.FormatVersion != _formatVersion || info.Format != _format;
        if (modeChanged)
        {
            _formatVersion = info.FormatVersion;
            _format = info.Format;
            _needFullCopy = true;
            handler.ModeChanged(info);
        }

        bool full = _needFullCopy || damageCount == 0 || info.Serial != _lastSerial + 1;
        Span<byte> destination = handler.GetFrameBuffer(info);
        int rowBytes = info.Format.Width * 4;
        if (destination.Length < (long)rowBytes * info.Format.Height)
        {
            _lastSerial = info.Serial;
            _haveFrame = true;
            DropFrame();
            return;
        }

        bool complete = full
            ? CopyRows(destination, pixels, writePointer, info, 0, info.Rows, 0, info.Format.Width)
            : CopyDamage(destination, pixels, writePointer, info, damageCount);
        _frameQueue!.MessageDone();
        _lastSerial = info.Serial;
        _haveFrame = true;
        if (!complete)
        {
            _needFullCopy = true;
            FramesDropped++;
            return;
        }

        _needFullCopy = false;
        FramesReceived++;
        handler.FrameReceived(info, full ? [] : _damage.AsSpan(0, damageCount));
    }

    private void DropFrame()
    {
        _frameQueue!.MessageDone();
        _needFullCopy = true;
        FramesDropped++;
    }

    /// <summary>Copies the frame header into locals and checks it against the message and the region.</summary>
    private bool TryReadFrame(LgmpMessage message, out KvmfrFrameInfo info, out long pixels, out long writePointer, out int damageCount)
    {
        info = default;
        pixels = writePointer = 0;
        damageCount = 0;
        if (message.Size < KvmfrFrameLayout.Size)
        {
            return false;
        }

        long frame = message.Offset;
        uint formatVersion = _region.ReadU32(frame + KvmfrFrameLayout.FormatVersion);
        uint serial = _region.ReadU32(frame + KvmfrFrameLayout.FrameSerial);
        var type = (FrameType)_region.ReadU32(frame + KvmfrFrameLayout.Type);
        uint screenWidth = _region.ReadU32(frame + KvmfrFrameLayout.ScreenWidth);
        uint screenHeight = _region.ReadU32(frame + KvmfrFrameLayout.ScreenHeight);
        uint dataHeight = _region.ReadU32(frame + KvmfrFrameLayout.DataHeight);
        uint width = _region.ReadU32(frame + KvmfrFrameLayout.FrameWidth);
        uint height = _region.ReadU32(frame + KvmfrFrameLayout.FrameHeight);
        var rotation = (FrameRotation)_region.ReadU32(frame + KvmfrFrameLayout.Rotation);
        uint pitch = _region.ReadU32(frame + KvmfrFrameLayout.Pitch);
        uint offset = _region.ReadU32(frame + KvmfrFrameLayout.Offset);
        uint rawDamage = _region.ReadU32(frame + KvmfrFrameLayout.DamageRectsCount);
        var flags = (FrameFlags)_region.ReadU32(frame + KvmfrFrameLayout.Flags);
        if (type is not (FrameType.Bgra or FrameType.Rgba or FrameType.Rgba10)
            || width is 0 or > MaxDimension || height is 0 or > MaxDimension || dataHeight > height
            || pitch < width * 4 || pitch > MaxDimension * 8 || (uint)rotation > (uint)FrameRotation.Rotate270)
        {
            return false;
        }

        long buffer = frame + offset;
        long bytes = (long)dataHeight * pitch;
        if (offset < KvmfrFrameLayout.Size || buffer % 4 != 0
            || offset + FrameBufferLayout.Data + bytes > message.Size
            || !_region.Contains(buffer, FrameBufferLayout.Data + bytes))
        {
            return false;
        }

        if (rawDamage <= KvmfrProtocol.MaxDamageRects)
        {
            for (int i = 0; i < (int)rawDamage; i++)
            {
                long at = frame + KvmfrFrameLayout.DamageRectOf(i);
                var rect = new DamageRect(
                    (int)Math.Min(_region.ReadU32(at + FrameDamageRectLayout.X), MaxDimension),
                    (int)Math.Min(_region.ReadU32(at + FrameDamageRectLayout.Y), MaxDimension),
                    (int)Math.Min(_region.ReadU32(at + FrameDamageRectLayout.Width), MaxDimension),
                    (int)Math.Min(_region.ReadU32(at + FrameDamageRectLayout.Height), MaxDimension));
                rect = DamageAccumulator.Clip(rect, (int)width, (int)height);
                if (rect.Width > 0 && rect.Height > 0)
                {
                    _damage[damageCount++] = rect;
                }
            }
        }

        info = new KvmfrFrameInfo(
            new KvmfrFrameFormat((int)width, (int)height, (int)pitch, type, rotation), formatVersion, serial,
            (int)dataHeight, (int)Math.Min(screenWidth, MaxDimension), (int)Math.Min(screenHeight, MaxDimension), flags);
        writePointer = buffer + FrameBufferLayout.WritePointer;
        pixels = buffer + FrameBufferLayout.Data;
        return true;
    }

    private bool CopyDamage(Span<byte> destination, long pixels, long writePointer, in KvmfrFrameInfo info, int damageCount)
    {
        for (int i = 0; i < damageCount; i++)
        {
            DamageRect rect = _damage[i];
            int bottom = Math.Min(rect.Bottom, info.Rows);
            if (rect.Y < bottom && !CopyRows(destination, pixels, writePointer, info, rect.Y, bottom, rect.X, rect.Width))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Copies rows [top, bottom) and columns [x, x + width), each once <c>wp</c> covers it; false when <c>wp</c> stalled.</summary>
    private bool CopyRows(Span<byte> destination, long pixels, long writePointer, in KvmfrFrameInfo info, int top, int bottom, int x, int width)
    {
        int pitch = info.Format.Pitch;
        int rowBytes = info.Format.Width * 4;
        int bytes = width * 4;
        uint written = _region.LoadAcquireU32(writePointer);
        for (int y = top; y < bottom; y++)
        {
            uint needed = (uint)((long)(y + 1) * pitch);
            if (written < needed)
            {
                written = WaitFor(writePointer, (uint)Math.Min((long)bottom * pitch, Math.Max(needed, written + (long)KvmfrProtocol.WriteChunk)), needed);
                if (written < needed)
                {
                    return false;
                }
            }

            _region.GetReadOnlySpan(pixels + ((long)y * pitch) + (x * 4), bytes).CopyTo(destination.Slice((y * rowBytes) + (x * 4), bytes));
        }

        return true;
    }

    /// <summary>Waits (bounded) until <c>wp</c> reaches <paramref name="wanted"/>; returns as soon as it reaches at least <paramref name="needed"/> and stops moving up.</summary>
    private uint WaitFor(long writePointer, uint wanted, uint needed)
    {
        long start = Stopwatch.GetTimestamp();
        var spin = default(SpinWait);
        while (true)
        {
            uint written = _region.LoadAcquireU32(writePointer);
            if (written >= wanted || written >= needed)
            {
                return written;
            }

            if (Stopwatch.GetElapsedTime(start) > _options.FrameWaitTimeout)
            {
                return written;
            }

            spin.SpinOnce(sleep1Threshold: -1);
        }
    }

    private void HandleCursor(IKvmfrConsumerHandler handler, LgmpMessage message)
    {
        var flags = (CursorFlags)message.Udata;
        if (message.Size < KvmfrCursorLayout.Size)
        {
            _pointerQueue!.MessageDone();
            return;
        }

        long at = message.Offset;
        short x = (short)_region.ReadU16(at + KvmfrCursorLayout.X);
        short y = (short)_region.ReadU16(at + KvmfrCursorLayout.Y);
        var type = (CursorType)_region.ReadU32(at + KvmfrCursorLayout.Type);
        sbyte hotX = (sbyte)_region.ReadU8(at + KvmfrCursorLayout.HotX);
        sbyte hotY = (sbyte)_region.ReadU8(at + KvmfrCursorLayout.HotY);
        uint width = _region.ReadU32(at + KvmfrCursorLayout.Width);
        uint height = _region.ReadU32(at + KvmfrCursorLayout.Height);
        uint pitch = _region.ReadU32(at + KvmfrCursorLayout.Pitch);
        if ((flags & CursorFlags.Shape) != 0
            && TryConvertShape(message, type, width, height, pitch, out KvmfrCursorShape shape))
        {
            _hotX = hotX;
            _hotY = hotY;
            shape = shape with { HotX = hotX, HotY = hotY };
            handler.CursorShapeChanged(shape, _cursor.AsSpan(0, shape.Width * shape.Height * 4));
        }

        if ((flags & CursorFlags.Position) != 0)
        {
            _cursorX = x;
            _cursorY = y;
        }

        _pointerQueue!.MessageDone();
        handler.CursorMoved(new KvmfrCursorState(_cursorX, _cursorY, _cursorX + _hotX, _cursorY + _hotY, (flags & CursorFlags.Visible) != 0));
    }

    private bool TryConvertShape(LgmpMessage message, CursorType type, uint width, uint height, uint pitch, out KvmfrCursorShape shape)
    {
        shape = default;
        uint visibleHeight = type == CursorType.Monochrome ? height / 2 : height;
        uint minPitch = type == CursorType.Monochrome ? (width + 7) / 8 : width * 4;
        if (type > CursorType.MaskedColor || width is 0 or > KvmfrProtocol.MaxCursorDimension
            || visibleHeight is 0 or > KvmfrProtocol.MaxCursorDimension || pitch < minPitch || pitch > KvmfrProtocol.MaxCursorDimension * 8
            || KvmfrCursorLayout.Size + ((long)height * pitch) > message.Size)
        {
            return false;
        }

        ReadOnlySpan<byte> source = _region.GetReadOnlySpan(message.Offset + KvmfrCursorLayout.Size, (int)(height * pitch));
        Span<byte> target = _cursor.AsSpan(0, (int)(width * visibleHeight * 4));
        int w = (int)width;
        for (int row = 0; row < (int)visibleHeight; row++)
        {
            Span<byte> to = target.Slice(row * w * 4, w * 4);
            if (type == CursorType.Color)
            {
                source.Slice(row * (int)pitch, w * 4).CopyTo(to);
            }
            else if (type == CursorType.MaskedColor)
            {
                ReadOnlySpan<byte> from = source.Slice(row * (int)pitch, w * 4);
                for (int i = 0; i < w * 4; i += 4)
                {
                    bool xor = from[i + 3] != 0;
                    bool clear = xor && from[i] == 0 && from[i + 1] == 0 && from[i + 2] == 0;
                    to[i] = from[i];
                    to[i + 1] = from[i + 1];
                    to[i + 2] = from[i + 2];
                    to[i + 3] = clear ? (byte)0 : (byte)0xFF;
                }
            }
            else
            {
                ReadOnlySpan<byte> and = source.Slice(row * (int)pitch, (int)minPitch);
                ReadOnlySpan<byte> xor = source.Slice((row + (int)visibleHeight) * (int)pitch, (int)minPitch);
                for (int i = 0; i < w; i++)
                {
                    int bit = 7 - (i & 7);
                    bool andBit = ((and[i >> 3] >> bit) & 1) != 0;
                    bool xorBit = ((xor[i >> 3] >> bit) & 1) != 0;

                    // AND=1,XOR=0 keeps the screen (transparent); AND=0 paints black or white; AND=1,XOR=1 inverts (shown black).
                    byte value = !andBit && xorBit ? (byte)0xFF : (byte)0;
                    byte alpha = andBit && !xorBit ? (byte)0 : (byte)0xFF;
                    to[(i * 4) + 0] = value;
                    to[(i * 4) + 1] = value;
                    to[(i * 4) + 2] = value;
                    to[(i * 4) + 3] = alpha;
                }
            }
        }

        shape = new KvmfrCursorShape(type, w, (int)visibleHeight, 0, 0);
        return true;
    }
}

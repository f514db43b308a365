using System.Buffers.Binary;
using System.Diagnostics;
using Vmm.Contracts.Display;
using Vmm.Plugins.Ivshmem.Lgmp;
using Vmm.Plugins.Ivshmem.SharedMemory;

namespace Vmm.Plugins.Ivshmem.Kvmfr;

/// <summary>
/// The KVMFR producer (the LGMP host role, what Looking Glass's host app is): frames into two alternating shm
/// buffers, posted first and then streamed with release stores of <c>wp</c>; cursor shapes and positions on their own
/// queue; the heartbeat; re-posting the last frame and cursor for every new subscriber; SETCURSORPOS requests.
/// </summary>
/// <remarks>
/// <para>Layout: header and udata, the two rings, 20 position buffers, 3 shape buffers, then two page-aligned frame
/// buffers of equal size splitting the rest (pixels at <c>frame + 4096</c>, <c>KVMFRFrame.offset = 4092</c>).</para>
/// <para>Damage (brief §3.5): each shm buffer accumulates the damage of every frame since it was last written, and
/// a frame copies its buffer's accumulated damage (everything when over 64 rects or unknown), while the frame header
/// carries the damage since the previously posted frame.</para>
/// <para>Thread-safe: <see cref="SubmitFrame"/>, the cursor methods and the heartbeat serialise on one lock.
/// <see cref="SubmitFrame"/> blocks at most <see cref="KvmfrProducerOptions.MaxFrameWait"/> plus its copy.</para>
/// </remarks>
internal sealed class KvmfrProducer : IDisposable
{
    private const int PositionBuffers = 20;
    private const int ShapeBuffers = 3;

    private readonly SharedRegion _region;
    private readonly KvmfrProducerOptions _options;
    private readonly TimeProvider _time;
    private readonly byte[] _udata;
    private readonly Lock _gate = new();
    private readonly DamageAccumulator[] _bufferDamage = [new(), new()];
    private readonly DamageAccumulator _frameDamage = new();
    private readonly LgmpMemory[] _frames = new LgmpMemory[2];
    private readonly long[] _frameSequence = [-1, -1];
    private readonly LgmpMemory[] _positions = new LgmpMemory[PositionBuffers];
    private readonly long[] _positionSequence = new long[PositionBuffers];
    private readonly LgmpMemory[] _shapes = new LgmpMemory[ShapeBuffers];
    private readonly long[] _shapeSequence = new long[ShapeBuffers];
    private readonly byte[] _shape;
    private readonly ManualResetEventSlim _stop = new();
    private readonly Thread? _heartbeatThread;
    private LgmpHost _host = null!;
    private LgmpHostQueue _frameQueue = null!;
    private LgmpHostQueue _pointerQueue = null!;
    private KvmfrFrameFormat _format;
    private uint _formatVersion;
    private uint _frameSerial;
    private int _lastBuffer = -1;
    private bool _repostFrame;
    private int _nextPosition;
    private int _nextShape;
    private CursorType _shapeType;
    private int _shapeWidth;
    private int _shapeHeight;
    private int _shapePitch;
    private int _hotX;
    private int _hotY;
    private bool _hasShape;
    private bool _shapePending;
    private bool _positionPending;
    private short _cursorX;
    private short _cursorY;
    private bool _hasPosition;
    private bool _cursorVisible;
    private bool _disposed;

    /// <summary>
    /// Sets up a new LGMP session in <paramref name="region"/> (a new session ID, so running clients restart) and, by
    /// default, starts the heartbeat thread.
    /// </summary>
    /// <exception cref="ArgumentException">The region is too small for the queues, cursor buffers and two frame buffers.</exception>
    public KvmfrProducer(SharedRegion region, KvmfrProducerOptions options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(region);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        _region = region;
        _options = options;
        _time = time;
        _udata = new KvmfrHeader(
            KvmfrProtocol.Version, options.HostVersion,
            options.SetCursorPosition ? KvmfrFeatures.SetCursorPos : KvmfrFeatures.None,
            options.VmInfo, options.OsInfo).ToUdata();
        _shape = new byte[options.MaxCursorDimension * options.MaxCursorDimension * 4];
        Restart();
        if (options.HeartbeatThread)
        {
            _heartbeatThread = new Thread(HeartbeatLoop) { IsBackground = true, Name = "KVMFR heartbeat" };
            _heartbeatThread.Start();
        }
    }

    /// <summary>
    /// Raised on the heartbeat thread when a client asks to move the guest cursor (<c>KVMFRSetCursorPos</c>; only
    /// when <see cref="KvmfrProducerOptions.SetCursorPosition"/>). Arguments: x, y in guest desktop pixels. Keep it short.
    /// </summary>
    public event Action<int, int>? CursorPositionRequested;

    /// <summary>The current LGMP session ID.</summary>
    public uint SessionId
    {
        get
        {
            lock (_gate)
            {
                return _host.SessionId;
            }
        }
    }

    /// <summary>The largest frame in bytes (<c>height * width * 4</c>) that fits a shm buffer untruncated.</summary>
    public long MaxFrameBytes { get; private set; }

    /// <summary>Frames posted so far (re-posts not counted).</summary>
    public long FramesPosted { get; private set; }

    /// <summary>Frames deferred so far because their buffer was still held.</summary>
    public long FramesDeferred { get; private set; }

    /// <summary>Whether a frame was deferred and no frame has been posted since: submit one.</summary>
    public bool FramePending { get; private set; }

    /// <summary>The last exception the heartbeat thread caught (a bug if ever set), or null.</summary>
    public Exception? LastHeartbeatError { get; private set; }

    /// <summary>Whether any client is subscribed to the frame queue.</summary>
    public bool HasFrameSubscribers
    {
        get
        {
            lock (_gate)
            {
                return _frameQueue.HasSubscribers;
            }
        }
    }

    /// <summary>
    /// Starts a new session in the same memory (a new session ID; clients re-join). Called by the constructor, and by
    /// the heartbeat when something reset the memory under it. The next frame is written in full.
    /// </summary>
    public void Restart()
    {
        lock (_gate)
        {
            if (LgmpHost.Create(_region, _udata, _time, out LgmpHost? host) != LgmpStatus.Ok)
            {
                throw new ArgumentException($"a {_region.Length}-byte region cannot hold an LGMP header and {_udata.Length} bytes of udata", "region");
            }

            Volatile.Write(ref _host, host!);
            uint maxTime = (uint)Math.Clamp(_options.SubscriberTimeout.TotalMilliseconds, 1, uint.MaxValue);
            Require(_host.CreateQueue(KvmfrProtocol.FrameQueueId, KvmfrProtocol.FrameQueueLength, maxTime, out LgmpHostQueue? frames), "the frame queue");
            Require(_host.CreateQueue(KvmfrProtocol.PointerQueueId, KvmfrProtocol.PointerQueueLength, maxTime, out LgmpHostQueue? pointer), "the pointer queue");
            _frameQueue = frames!;
            _pointerQueue = pointer!;
            for (int i = 0; i < PositionBuffers; i++)
            {
                Require(_host.Allocate(KvmfrCursorLayout.Size, 4, out _positions[i]), "the cursor position buffers");
                _positionSequence[i] = -1;
            }

            uint shapeSize = (uint)(KvmfrCursorLayout.Size + _shape.Length);
            for (int i = 0; i < ShapeBuffers; i++)
            {
                Require(_host.Allocate(shapeSize, 4, out _shapes[i]), "the cursor shape buffers");
                _shapeSequence[i] = -1;
            }

            long frameSize = _host.AvailableAligned(KvmfrProtocol.PageSize) / 2 & ~(long)(KvmfrProtocol.PageSize - 1);
            if (frameSize <= KvmfrProtocol.PageSize)
            {
                throw new ArgumentException($"a {_region.Length}-byte region leaves no room for two frame buffers", "region");
            }

            for (int i = 0; i < 2; i++)
            {
                Require(_host.Allocate((uint)frameSize, KvmfrProtocol.PageSize, out _frames[i]), "the frame buffers");
                _frameSequence[i] = -1;
                _bufferDamage[i].SetFull();
            }

            MaxFrameBytes = frameSize - KvmfrProtocol.PageSize;
            _frameDamage.SetFull();
            _lastBuffer = -1;
            _repostFrame = false;
            _format = default;
            _shapePending = _hasShape;
            _positionPending = _hasPosition;
        }
    }

    /// <summary>
    /// Writes and posts a frame: <paramref name="pixels"/> hold <paramref name="height"/> rows of
    /// <paramref name="sourcePitch"/> bytes; <paramref name="damage"/> lists what changed since the previous submit
    /// (empty: everything). Waits at most <see cref="KvmfrProducerOptions.MaxFrameWait"/> for the shm buffer.
    /// </summary>
    public KvmfrSubmitResult SubmitFrame(int width, int height, FrameType type, ReadOnlySpan<byte> pixels, int sourcePitch, ReadOnlySpan<DamageRect> damage, FrameFlags flags = FrameFlags.None)
    {
        if (width <= 0 || height <= 0 || sourcePitch < width * 4 || pixels.Length < ((long)(height - 1) * sourcePitch) + (width * 4))
        {
            return KvmfrSubmitResult.Invalid;
        }

        // The pixel format only names the byte order to the copy, which moves 4 bytes a pixel whatever it is.
        return SubmitFrame(new DisplayFrame(new DisplayMode(width, height, sourcePitch, PixelFormat.B8G8R8A8), pixels, damage, 0), type, flags);
    }

    /// <summary>
    /// Writes and posts <paramref name="frame"/> (its mode's size and stride, its damage), read through
    /// <see cref="DisplayFrame.CopyRect"/>, so a segmented frame goes from its segments straight into the shm buffer.
    /// </summary>
    public KvmfrSubmitResult SubmitFrame(DisplayFrame frame, FrameType type, FrameFlags flags = FrameFlags.None)
    {
        (int width, int height) = (frame.Mode.Width, frame.Mode.Height);
        ReadOnlySpan<DamageRect> damage = frame.Damage;
        if (width <= 0 || height <= 0 || width > 16384 || height > 16384 || type is not (FrameType.Bgra or FrameType.Rgba or FrameType.Rgba10)
            || frame.Mode.Stride < width * 4 || (!frame.IsSegmented && frame.Pixels.Length < ((long)(height - 1) * frame.Mode.Stride) + (width * 4)))
        {
            return KvmfrSubmitResult.Invalid;
        }

        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var format = new KvmfrFrameFormat(width, height, width * 4, type, FrameRotation.Rotate0);
            if (format != _format)
            {
                _format = format;
                _formatVersion++;
                _bufferDamage[0].SetFull();
                _bufferDamage[1].SetFull();
                _frameDamage.SetFull();
            }
            else
            {
                _bufferDamage[0].Add(damage, width, height);
                _bufferDamage[1].Add(damage, width, height);
                _frameDamage.Add(damage, width, height);
            }

            RepostIfWanted();
            int buffer = _lastBuffer < 0 ? 0 : 1 - _lastBuffer;
            if (!WaitRetired(_frameQueue, _frameSequence[buffer]))
            {
                FramesDeferred++;
                FramePending = true;
                return KvmfrSubmitResult.Deferred;
            }

            if (!WriteAndPost(buffer, frame, flags))
            {
                FramesDeferred++;
                FramePending = true;
                return KvmfrSubmitResult.Deferred;
            }

            return KvmfrSubmitResult.Posted;
        }
    }

    /// <summary>
    /// Sets the cursor image: <paramref name="shape"/> holds <paramref name="height"/> rows of <paramref name="pitch"/>
    /// bytes (monochrome: AND rows then XOR rows, so <paramref name="height"/> is twice the visible height), with the
    /// hotspot at (<paramref name="hotX"/>, <paramref name="hotY"/>) from the top-left.
    /// </summary>
    /// <returns>False when the shape is larger than <see cref="KvmfrProducerOptions.MaxCursorDimension"/> or the bytes are too short.</returns>
    public bool SetCursorShape(CursorType type, int width, int height, int pitch, int hotX, int hotY, ReadOnlySpan<byte> shape)
    {
        int maxSide = _options.MaxCursorDimension;
        int minPitch = type == CursorType.Monochrome ? (width + 7) / 8 : width * 4;
        if (width <= 0 || height <= 0 || width > maxSide || height > (type == CursorType.Monochrome ? 2 * maxSide : maxSide)
            || pitch < minPitch || (long)pitch * height > _shape.Length || shape.Length < (long)pitch * height
            || hotX is < 0 or > 127 || hotY is < 0 or > 127)
        {
            return false;
        }

        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            shape[..(pitch * height)].CopyTo(_shape);
            (_shapeType, _shapeWidth, _shapeHeight, _shapePitch, _hotX, _hotY) = (type, width, height, pitch, hotX, hotY);
            _hasShape = true;
            _shapePending = true;
            FlushCursor();
            return true;
        }
    }

    /// <summary>
    /// Moves the cursor so its hotspot is at (<paramref name="x"/>, <paramref name="y"/>) in guest desktop pixels,
    /// shown or hidden. Updates that find the queue full are coalesced and sent by the heartbeat.
    /// </summary>
    public void SetCursorPosition(int x, int y, bool visible)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _cursorX = (short)Math.Clamp(x - _hotX, short.MinValue, short.MaxValue);
            _cursorY = (short)Math.Clamp(y - _hotY, short.MinValue, short.MaxValue);
            _cursorVisible = visible;
            _hasPosition = true;
            _positionPending = true;
            FlushCursor();
        }
    }

    /// <summary>
    /// One heartbeat: the LGMP timestamp and retire pass, re-posts for new subscribers, deferred cursor updates and
    /// SETCURSORPOS requests. The heartbeat thread calls it every <see cref="KvmfrProducerOptions.HeartbeatInterval"/>.
    /// </summary>
    /// <returns>The LGMP status; <see cref="LgmpStatus.ErrCorrupted"/> means the memory was reset and a new session was started.</returns>
    public LgmpStatus Heartbeat()
    {
        // The LGMP heartbeat and retire pass synchronise with posts through the shm queue locks, so they run even
        // while a frame is being copied under the gate: a long copy never stalls the clients' 1 s heartbeat check.
        LgmpHost host = Volatile.Read(ref _host);
        LgmpStatus status = host.Process();
        if (status == LgmpStatus.ErrCorrupted)
        {
            lock (_gate)
            {
                if (!_disposed && ReferenceEquals(host, _host))
                {
                    Restart();
                }
            }

            return status;
        }

        (int X, int Y)? request;
        if (!_gate.TryEnter())
        {
            return status; // a frame is being written; re-posts and cursor retries wait for the next beat
        }

        try
        {
            if (_disposed)
            {
                return LgmpStatus.ErrInvalidSession;
            }

            if (_frameQueue.TakeNewSubscribers() > 0)
            {
                _repostFrame = true;
            }

            if (_pointerQueue.TakeNewSubscribers() > 0)
            {
                _shapePending = _hasShape;
                _positionPending = _hasPosition || _hasShape;
            }

            RepostIfWanted();
            FlushCursor();
            request = ReadCursorRequests();
        }
        finally
        {
            _gate.Exit();
        }

        if (request is { } position)
        {
            CursorPositionRequested?.Invoke(position.X, position.Y);
        }

        return status;
    }

    /// <summary>Stops the heartbeat. The shared memory is left as it is: clients see the heartbeat stop.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
        }

        _stop.Set();
        _heartbeatThread?.Join();
        _stop.Dispose();
    }

    private static void Require(LgmpStatus status, string what)
    {
        if (status != LgmpStatus.Ok)
        {
            throw new ArgumentException($"the shared memory is too small for {what} ({status})");
        }
    }

    private void HeartbeatLoop()
    {
        while (!_stop.Wait(_options.HeartbeatInterval))
        {
            try
            {
                Heartbeat();
            }
            catch (Exception exception) when (exception is not OutOfMemoryException)
            {
                // Never let the heartbeat thread die (that would end every client's session); keep the cause.
                LastHeartbeatError = exception;
            }
        }
    }

    private bool WaitRetired(LgmpHostQueue queue, long sequence)
    {
        if (queue.IsRetired(sequence))
        {
            return true;
        }

        long start = Stopwatch.GetTimestamp();
        var spin = default(SpinWait);
        while (Stopwatch.GetElapsedTime(start) < _options.MaxFrameWait)
        {
            spin.SpinOnce(sleep1Threshold: -1);
            if (spin.NextSpinWillYield)
            {
                // A client that could not take the lock leaves retiring to the host: do it here, the heartbeat waits.
                _host.Process();
            }

            if (queue.IsRetired(sequence))
            {
                return true;
            }
        }

        _host.Process();
        return queue.IsRetired(sequence);
    }

    private bool WriteAndPost(int buffer, DisplayFrame source, FrameFlags flags)
    {
        KvmfrFrameFormat format = _format;
        long frame = _frames[buffer].Offset;
        long data = frame + KvmfrProtocol.FrameBufferOffset;
        int rows = (int)Math.Min(format.Height, MaxFrameBytes / format.Pitch);
        if (rows < format.Height)
        {
            flags |= FrameFlags.Truncated;
        }

        _frameSerial++;
        _region.WriteU32(frame + KvmfrFrameLayout.FormatVersion, _formatVersion);
        _region.WriteU32(frame + KvmfrFrameLayout.FrameSerial, _frameSerial);
        _region.WriteU32(frame + KvmfrFrameLayout.Type, (uint)format.Type);
        _region.WriteU32(frame + KvmfrFrameLayout.ScreenWidth, (uint)format.Width);
        _region.WriteU32(frame + KvmfrFrameLayout.ScreenHeight, (uint)format.Height);
        _region.WriteU32(frame + KvmfrFrameLayout.DataWidth, (uint)format.Width);
        _region.WriteU32(frame + KvmfrFrameLayout.DataHeight, (uint)rows);
        _region.WriteU32(frame + KvmfrFrameLayout.FrameWidth, (uint)format.Width);
        _region.WriteU32(frame + KvmfrFrameLayout.FrameHeight, (uint)format.Height);
        _region.WriteU32(frame + KvmfrFrameLayout.Rotation, (uint)format.Rotation);
        _region.WriteU32(frame + KvmfrFrameLayout.Stride, (uint)format.Width);
        _region.WriteU32(frame + KvmfrFrameLayout.Pitch, (uint)format.Pitch);
        _region.WriteU32(frame + KvmfrFrameLayout.Offset, KvmfrProtocol.FrameBufferOffset);
        ReadOnlySpan<DamageRect> headerDamage = _frameDamage.Rects;
        _region.WriteU32(frame + KvmfrFrameLayout.DamageRectsCount, (uint)headerDamage.Length);
        for (int i = 0; i < headerDamage.Length; i++)
        {
            long at = frame + KvmfrFrameLayout.DamageRectOf(i);
            _region.WriteU32(at + FrameDamageRectLayout.X, (uint)headerDamage[i].X);
            _region.WriteU32(at + FrameDamageRectLayout.Y, (uint)headerDamage[i].Y);
            _region.WriteU32(at + FrameDamageRectLayout.Width, (uint)headerDamage[i].Width);
            _region.WriteU32(at + FrameDamageRectLayout.Height, (uint)headerDamage[i].Height);
        }

        _region.WriteU32(frame + KvmfrFrameLayout.Flags, (uint)flags);
        _region.StoreReleaseU32(data + FrameBufferLayout.WritePointer, 0);

        // Post first, then stream: the client starts copying while we still write (brief §3.4).
        if (_frameQueue.Post(0, _frames[buffer], out long sequence) != LgmpStatus.Ok)
        {
            // A client holds the queue lock: nothing was published; the damage stays for the next try.
            _frameSerial--;
            return false;
        }

        _frameSequence[buffer] = sequence;
        long pixelsAt = data + FrameBufferLayout.Data;
        if (_bufferDamage[buffer].IsFull)
        {
            CopyAll(pixelsAt, data, source, rows, format.Pitch);
        }
        else
        {
            CopyRects(pixelsAt, data, source, rows, format.Pitch, _bufferDamage[buffer].Rects);
        }

        _region.StoreReleaseU32(data + FrameBufferLayout.WritePointer, (uint)(rows * format.Pitch));
        _bufferDamage[buffer].Clear();
        _frameDamage.Clear();
        _lastBuffer = buffer;
        FramesPosted++;
        FramePending = false;
        return true;
    }

    private void CopyAll(long pixelsAt, long data, DisplayFrame frame, int rows, int pitch)
    {
        // Whole rows a chunk, the write pointer released after each, so a client copies while we still write.
        long wp = data + FrameBufferLayout.WritePointer;
        int width = frame.Mode.Width;
        int rowsPerChunk = Math.Max(1, KvmfrProtocol.WriteChunk / pitch);
        for (int y = 0; y < rows; y += rowsPerChunk)
        {
            int n = Math.Min(rowsPerChunk, rows - y);
            frame.CopyRect(new DamageRect(0, y, width, n), _region.GetSpan(pixelsAt + ((long)y * pitch), ((n - 1) * pitch) + (width * 4)), pitch);
            _region.StoreReleaseU32(wp, (uint)((y + n) * pitch));
        }
    }

    private void CopyRects(long pixelsAt, long data, DisplayFrame frame, int rows, int pitch, ReadOnlySpan<DamageRect> rects)
    {
        long wp = data + FrameBufferLayout.WritePointer;
        int top = rows;
        int bottom = 0;
        foreach (DamageRect rect in rects)
        {
            top = Math.Min(top, rect.Y);
            bottom = Math.Max(bottom, Math.Min(rect.Bottom, rows));
        }

        // Row by row over every rect, so wp (bytes of whole rows done) only ever grows.
        int sinceRelease = 0;
        for (int y = top; y < bottom; y++)
        {
            foreach (DamageRect rect in rects)
            {
                if (y >= rect.Y && y < rect.Bottom)
                {
                    int bytes = rect.Width * 4;
                    frame.CopyRect(new DamageRect(rect.X, y, rect.Width, 1), _region.GetSpan(pixelsAt + ((long)y * pitch) + (rect.X * 4), bytes), pitch);
                    sinceRelease += bytes;
                }
            }

            if (sinceRelease >= KvmfrProtocol.WriteChunk)
            {
                _region.StoreReleaseU32(wp, (uint)((y + 1) * pitch));
                sinceRelease = 0;
            }
        }
    }

    private void RepostIfWanted()
    {
        if (!_repostFrame)
        {
            return;
        }

        if (_lastBuffer < 0)
        {
            _repostFrame = false;
            return;
        }

        // Same frameSerial: clients that already have it drop the duplicate.
        if (_frameQueue.Post(0, _frames[_lastBuffer], out long sequence) == LgmpStatus.Ok)
        {
            if (sequence >= 0)
            {
                _frameSequence[_lastBuffer] = sequence;
            }

            _repostFrame = false;
        }
    }

    private void FlushCursor()
    {
        if (_shapePending && _hasShape)
        {
            int index = _nextShape;
            if (!_pointerQueue.IsRetired(_shapeSequence[index]))
            {
                return;
            }

            long at = _shapes[index].Offset;
            WriteCursorHeader(at, includeShape: true);
            _shape.AsSpan(0, _shapePitch * _shapeHeight).CopyTo(_region.GetSpan(at + KvmfrCursorLayout.Size, _shapePitch * _shapeHeight));
            CursorFlags flags = CursorFlags.Shape | (_hasPosition ? CursorFlags.Position : 0) | (_cursorVisible ? CursorFlags.Visible : 0);
            if (_pointerQueue.Post((uint)flags, _shapes[index], out _shapeSequence[index]) != LgmpStatus.Ok)
            {
                return;
            }

            _nextShape = (index + 1) % ShapeBuffers;
            _shapePending = false;
            _positionPending = false;
            return;
        }

        if (_positionPending)
        {
            int index = _nextPosition;
            if (!_pointerQueue.IsRetired(_positionSequence[index]))
            {
                return;
            }

            WriteCursorHeader(_positions[index].Offset, includeShape: false);
            CursorFlags flags = CursorFlags.Position | (_cursorVisible ? CursorFlags.Visible : 0);
            if (_pointerQueue.Post((uint)flags, _positions[index], out _positionSequence[index]) == LgmpStatus.Ok)
            {
                _nextPosition = (index + 1) % PositionBuffers;
                _positionPending = false;
            }
        }
    }

    private void WriteCursorHeader(long at, bool includeShape)
    {
        _region.WriteU16(at + KvmfrCursorLayout.X, (ushort)_cursorX);
        _region.WriteU16(at + KvmfrCursorLayout.Y, (ushort)_cursorY);
        _region.WriteU32(at + KvmfrCursorLayout.Type, (uint)_shapeType);
        _region.WriteU8(at + KvmfrCursorLayout.HotX, (byte)(sbyte)_hotX);
        _region.WriteU8(at + KvmfrCursorLayout.HotY, (byte)(sbyte)_hotY);
        _region.WriteU32(at + KvmfrCursorLayout.Width, includeShape ? (uint)_shapeWidth : 0);
        _region.WriteU32(at + KvmfrCursorLayout.Height, includeShape ? (uint)_shapeHeight : 0);
        _region.WriteU32(at + KvmfrCursorLayout.Pitch, includeShape ? (uint)_shapePitch : 0);
    }

    private (int X, int Y)? ReadCursorRequests()
    {
        (int X, int Y)? last = null;
        Span<byte> message = stackalloc byte[64];
        for (int i = 0; i < 10 && _pointerQueue.ReadData(message, out int length) == LgmpStatus.Ok; i++)
        {
            if (_options.SetCursorPosition && length >= KvmfrSetCursorPosLayout.Size
                && BinaryPrimitives.ReadUInt32LittleEndian(message) == KvmfrSetCursorPosLayout.MessageType)
            {
                last = (BinaryPrimitives.ReadInt32LittleEndian(message[KvmfrSetCursorPosLayout.X..]),
                    BinaryPrimitives.ReadInt32LittleEndian(message[KvmfrSetCursorPosLayout.Y..]));
            }

            _pointerQueue.AckData();
        }

        return last;
    }
}

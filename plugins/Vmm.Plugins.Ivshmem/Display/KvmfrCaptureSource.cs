using Microsoft.Extensions.Logging;
using Vmm.Contracts.Display;
using Vmm.Plugins.Ivshmem.Kvmfr;
using Vmm.Plugins.Ivshmem.Lgmp;
using Vmm.Plugins.Ivshmem.SharedMemory;

namespace Vmm.Plugins.Ivshmem.Display;

/// <summary>
/// The IVSHMEM capture display source: an LGMP client (what <c>looking-glass-client</c> is) on the device's shared
/// memory, on a thread of its own, turning the guest producer's KVMFR frames and cursor into display frames for the
/// display router. It keeps the last frame, so a sink that connects (or a source switch) gets a full picture at once.
/// </summary>
/// <remarks>
/// The memory is written by an untrusted guest: <see cref="KvmfrConsumer"/> copies and checks every header and bounds
/// every offset; this class only sees frames it has already copied. The loop polls every millisecond (Looking Glass's
/// client default), acks each frame right after its copy so it never paces the guest, and a sink that throws is logged,
/// not fatal. The sink is called with <c>_sinkLock</c> held, never while the consumer holds shared-memory state.
/// </remarks>
internal sealed class KvmfrCaptureSource : IKvmfrConsumerHandler, IDisposable
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(1);

    private readonly string _deviceId;
    private readonly SharedRegion _region;
    private readonly KvmfrConsumer _consumer;
    private readonly ILogger _logger;
    private readonly Lock _sinkLock = new();
    private readonly DamageRect[] _damage = new DamageRect[KvmfrProtocol.MaxDamageRects];
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _thread;

    private IDisplaySink? _sink;
    private DisplayMode? _mode;
    private byte[] _pixels = [];
    private bool _havePicture;
    private ulong _sequence;
    private CursorShape? _cursorShape;
    private CursorPosition _cursorPosition;
    private FrameType _unsupportedLogged;

    /// <summary>Starts reading <paramref name="memory"/> (which the caller keeps owning) on a thread of its own.</summary>
    public KvmfrCaptureSource(string deviceId, SharedMemoryFile memory, ILoggerFactory loggerFactory, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(memory);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        _deviceId = deviceId;
        _logger = loggerFactory.CreateLogger("Vmm.Ivshmem");
        _region = SharedRegion.Over(memory);
        _consumer = new KvmfrConsumer(_region, new KvmfrConsumerOptions(), time);
        _thread = new Thread(Run) { IsBackground = true, Name = $"kvmfr-capture {deviceId}" };
        _thread.Start();
    }

    /// <summary>The mode of the last frame, or null before the guest's producer sent one.</summary>
    public DisplayMode? CurrentMode
    {
        get
        {
            lock (_sinkLock)
            {
                return _mode;
            }
        }
    }

    /// <summary>Where the consumer is with the guest's producer (for status and tests).</summary>
    public KvmfrConsumerState State => _consumer.State;

    /// <summary>Frames copied out of shared memory.</summary>
    public long FramesReceived => _consumer.FramesReceived;

    /// <summary>Publishes to <paramref name="sink"/> from now on, starting with the mode, the last frame and the cursor.</summary>
    public void Connect(IDisplaySink sink)
    {
        ArgumentNullException.ThrowIfNull(sink);
        lock (_sinkLock)
        {
            _sink = sink;
            if (_mode is DisplayMode mode)
            {
                Deliver(static (s, m) => s.OnModeChanged(m), mode);
                if (_havePicture)
                {
                    PublishLocked(mode, []);
                }
            }

            if (_cursorShape is CursorShape shape)
            {
                Deliver(static (s, c) => s.OnCursorShape(c), shape);
                Deliver(static (s, p) => s.OnCursorPosition(p), _cursorPosition);
            }
        }
    }

    /// <summary>Stops publishing; frames are still read (and acked) so the guest's producer is never held up.</summary>
    public void Disconnect()
    {
        lock (_sinkLock)
        {
            _sink = null;
        }
    }

    /// <summary>Asks the guest's producer to move its cursor (only when it advertises SETCURSORPOS).</summary>
    public bool RequestCursorPosition(int x, int y) => _consumer.RequestCursorPosition(x, y);

    /// <summary>Stops the thread; the memory stays with its owner.</summary>
    public void Dispose()
    {
        _stop.Cancel();
        if (Thread.CurrentThread != _thread)
        {
            _thread.Join();
        }

        _region.Dispose();
        _stop.Dispose();
    }

    void IKvmfrConsumerHandler.SessionStarted(KvmfrHeader header) => IvshmemLog.CaptureSessionStarted(_logger, _deviceId, header.HostVersion);

    void IKvmfrConsumerHandler.SessionLost(LgmpStatus reason) => IvshmemLog.CaptureSessionLost(_logger, _deviceId, reason);

    void IKvmfrConsumerHandler.ModeChanged(in KvmfrFrameInfo frame)
    {
        if (PixelFormatOf(frame.Format.Type) is not PixelFormat format)
        {
            if (_unsupportedLogged != frame.Format.Type)
            {
                _unsupportedLogged = frame.Format.Type;
                IvshmemLog.CaptureFormatUnsupported(_logger, _deviceId, frame.Format.Type.ToString());
            }

            return;
        }

        var mode = new DisplayMode(frame.Format.Width, frame.Format.Height, frame.Format.Width * 4, format);
        lock (_sinkLock)
        {
            if (_mode == mode)
            {
                return; // a new session or formatVer with the same geometry: the buffer and the sinks stay as they are
            }

            IvshmemLog.CaptureModeChanged(_logger, _deviceId, mode.Width, mode.Height, frame.Format.Type.ToString());

            // The one allocation of the frame path, at a mode change.
            _pixels = new byte[checked(mode.Stride * mode.Height)];
            _havePicture = false;
            _mode = mode;
            Deliver(static (s, m) => s.OnModeChanged(m), mode);
        }
    }

    Span<byte> IKvmfrConsumerHandler.GetFrameBuffer(in KvmfrFrameInfo frame)
    {
        // Written only on this thread; Connect reads it under the lock after the frame was published.
        DisplayMode? mode = _mode;
        return mode is { } m && m.Width == frame.Format.Width && m.Height == frame.Format.Height && PixelFormatOf(frame.Format.Type) == m.Format
            ? _pixels
            : [];
    }

    void IKvmfrConsumerHandler.FrameReceived(in KvmfrFrameInfo frame, ReadOnlySpan<DamageRect> damage)
    {
        lock (_sinkLock)
        {
            if (_mode is not DisplayMode mode)
            {
                return;
            }

            // A first or partial picture is still the whole surface: a frame without damage was copied in full.
            _havePicture |= damage.IsEmpty;
            if (!_havePicture)
            {
                return;
            }

            PublishLocked(mode, damage);
        }
    }

    void IKvmfrConsumerHandler.CursorShapeChanged(in KvmfrCursorShape shape, ReadOnlySpan<byte> bgra)
    {
        // The shape outlives the call (sinks keep it), so it gets its own copy; shapes change rarely.
        var published = new CursorShape(shape.Width, shape.Height, shape.HotX, shape.HotY, bgra.ToArray());
        lock (_sinkLock)
        {
            _cursorShape = published;
            Deliver(static (s, c) => s.OnCursorShape(c), published);
        }
    }

    void IKvmfrConsumerHandler.CursorMoved(in KvmfrCursorState state)
    {
        var position = new CursorPosition(state.HotspotX, state.HotspotY, state.Visible);
        lock (_sinkLock)
        {
            _cursorPosition = position;
            Deliver(static (s, p) => s.OnCursorPosition(p), position);
        }
    }

    private static PixelFormat? PixelFormatOf(FrameType type) => type switch
    {
        FrameType.Bgra => PixelFormat.B8G8R8A8,
        FrameType.Rgba => PixelFormat.R8G8B8A8,
        _ => null,
    };

    private void PublishLocked(DisplayMode mode, ReadOnlySpan<DamageRect> damage)
    {
        if (_sink is not IDisplaySink sink)
        {
            return;
        }

        if (damage.IsEmpty)
        {
            _damage[0] = new DamageRect(0, 0, mode.Width, mode.Height);
            damage = _damage.AsSpan(0, 1);
        }

        try
        {
            sink.OnFrame(new DisplayFrame(mode, _pixels, damage, ++_sequence));
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            IvshmemLog.CaptureSinkFailed(_logger, _deviceId, sink.Id, exception);
        }
    }

    // Static lambdas with their argument passed in: no closure is allocated per cursor move.
    private void Deliver<T>(Action<IDisplaySink, T> call, T argument)
    {
        if (_sink is not IDisplaySink sink)
        {
            return;
        }

        try
        {
            call(sink, argument);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            IvshmemLog.CaptureSinkFailed(_logger, _deviceId, sink.Id, exception);
        }
    }

    private void Run()
    {
        CancellationToken stop = _stop.Token;
        try
        {
            while (!stop.IsCancellationRequested)
            {
                _consumer.Poll(this);
                stop.WaitHandle.WaitOne(PollInterval);
            }
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            // KvmfrConsumer turns hostile memory into statuses; reaching here is a bug of ours, logged, not fatal to the VM.
            IvshmemLog.CaptureFailed(_logger, _deviceId, exception);
        }
    }
}

using Microsoft.Extensions.Logging;
using Vmm.Contracts.Display;
using Vmm.Plugins.Ivshmem.Kvmfr;
using Vmm.Plugins.Ivshmem.SharedMemory;

namespace Vmm.Plugins.Ivshmem.Display;

/// <summary>
/// The KVMFR export display sink: an LGMP host (what Looking Glass's host application is) on a shared-memory file of
/// its own, publishing whatever source the display router has active, with damage and the cursor, so the real
/// <c>looking-glass-client -f FILE</c> (B7), its OBS plugin, or our own capture can show any VM.
/// </summary>
/// <remarks>
/// The router calls from the source's thread and must not be held up: a frame whose shm buffer a client still holds
/// is deferred (its damage kept by the producer), copied once into a shadow, and posted from a timer as soon as the
/// buffer is free, unless a newer frame gets there first. Formats whose bytes are not BGRA or RGBA are converted
/// into the shadow first. The producer's own heartbeat thread keeps clients alive while no frame changes.
/// </remarks>
internal sealed class KvmfrExportSink : IDisplaySegmentedFrameSink
{
    private static readonly TimeSpan RetryInterval = TimeSpan.FromMilliseconds(4);

    private readonly SharedMemoryFile _memory;
    private readonly SharedRegion _region;
    private readonly KvmfrProducer _producer;
    private readonly ILogger _logger;
    private readonly Lock _sync = new();
    private readonly ITimer _retry;
    private DisplayMode? _mode;
    private FrameType _type;
    private bool _convert;
    private bool _modeUsable;
    private byte[] _shadow = [];
    private bool _shadowPending;
    private bool _disposed;

    /// <summary>Publishes into <paramref name="memory"/>, which the sink owns from now on.</summary>
    public KvmfrExportSink(string id, SharedMemoryFile memory, TimeSpan subscriberTimeout, ILoggerFactory loggerFactory, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(memory);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        ArgumentNullException.ThrowIfNull(time);
        Id = id;
        _memory = memory;
        _logger = loggerFactory.CreateLogger("Vmm.Ivshmem");
        _region = SharedRegion.Over(memory);
        _producer = new KvmfrProducer(_region, new KvmfrProducerOptions { HostVersion = "vmm kvmfr-export", SubscriberTimeout = subscriberTimeout }, time);
        _retry = time.CreateTimer(static state => ((KvmfrExportSink)state!).RetryDeferred(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        IvshmemLog.ExportStarted(_logger, id, memory.Path ?? "(memfd)", memory.Size);
    }

    /// <inheritdoc />
    public string Id { get; }

    /// <summary>The file clients read.</summary>
    public string? Path => _memory.Path;

    /// <inheritdoc />
    /// <remarks>Always: frames are read through <see cref="DisplayFrame.CopyRect"/>, segments straight into the shm buffer.</remarks>
    public bool AcceptsSegmentedFrames => true;

    /// <summary>The producer (for status and tests).</summary>
    internal KvmfrProducer Producer => _producer;

    /// <inheritdoc />
    public void OnModeChanged(DisplayMode mode)
    {
        lock (_sync)
        {
            _mode = mode;
            _shadowPending = false;
            (_type, _convert) = mode.Format switch
            {
                PixelFormat.B8G8R8A8 or PixelFormat.B8G8R8X8 => (FrameType.Bgra, false),
                PixelFormat.R8G8B8A8 or PixelFormat.R8G8B8X8 => (FrameType.Rgba, false),
                _ => (FrameType.Bgra, true),
            };
            _modeUsable = mode.Width > 0 && mode.Height > 0 && mode.Stride >= mode.Width * 4;
            if (!_modeUsable)
            {
                IvshmemLog.ExportModeUnsupported(_logger, Id, mode.Width, mode.Height, mode.Format.ToString(), "the stride is shorter than a row");
                return;
            }

            // The one allocation of the frame path, at a mode change: the shadow a deferred or converted frame waits in.
            _shadow = new byte[checked(mode.Width * 4 * mode.Height)];
        }
    }

    /// <inheritdoc />
    public void OnFrame(DisplayFrame frame)
    {
        lock (_sync)
        {
            if (_disposed || !_modeUsable || _mode is not DisplayMode mode || frame.Mode != mode)
            {
                return;
            }

            ReadOnlySpan<DamageRect> damage = frame.Damage;
            if (_convert)
            {
                ConvertToShadow(mode, frame, frame.Damage);
                Submit(mode, _shadow, mode.Width * 4, damage, fromShadow: true);
                return;
            }

            Posted(_producer.SubmitFrame(frame, _type), fromShadow: false);
            if (_producer.FramePending)
            {
                // A client still holds the buffer: keep the picture so the timer can post it once the buffer is free.
                frame.CopyRect(new DamageRect(0, 0, mode.Width, mode.Height), _shadow, mode.Width * 4);
                _shadowPending = true;
                _retry.Change(RetryInterval, RetryInterval);
            }
        }
    }

    /// <inheritdoc />
    public void OnCursorShape(CursorShape shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        lock (_sync)
        {
            if (!_disposed)
            {
                _producer.SetCursorShape(CursorType.Color, shape.Width, shape.Height, shape.Width * 4, shape.HotX, shape.HotY, shape.Pixels.Span);
            }
        }
    }

    /// <inheritdoc />
    public void OnCursorPosition(CursorPosition position)
    {
        lock (_sync)
        {
            if (!_disposed)
            {
                _producer.SetCursorPosition(position.X, position.Y, position.Visible);
            }
        }
    }

    /// <summary>Stops the heartbeat (clients see the host go within a second) and unmaps the file, which stays.</summary>
    public void Dispose()
    {
        lock (_sync)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
        }

        _retry.Dispose();
        _producer.Dispose();
        _region.Dispose();
        _memory.Dispose();
    }

    private void Submit(DisplayMode mode, ReadOnlySpan<byte> pixels, int pitch, ReadOnlySpan<DamageRect> damage, bool fromShadow)
        => Posted(_producer.SubmitFrame(mode.Width, mode.Height, _type, pixels, pitch, damage), fromShadow);

    private void Posted(KvmfrSubmitResult result, bool fromShadow)
    {
        if (result == KvmfrSubmitResult.Posted)
        {
            _shadowPending = false;
            _retry.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }
        else if (result == KvmfrSubmitResult.Deferred && fromShadow && !_shadowPending)
        {
            _shadowPending = true;
            _retry.Change(RetryInterval, RetryInterval);
        }
    }

    private void RetryDeferred()
    {
        lock (_sync)
        {
            if (_disposed || !_shadowPending || _mode is not DisplayMode mode)
            {
                return;
            }

            // The shadow holds the newest picture; the producer kept the damage of every deferred frame.
            _shadowPending = false;
            Submit(mode, _shadow, mode.Width * 4, [], fromShadow: true);
        }
    }

    /// <summary>Converts the damaged rects of a frame in A8R8G8B8-like orders into B,G,R,A bytes in the shadow.</summary>
    private void ConvertToShadow(DisplayMode mode, DisplayFrame frame, ReadOnlySpan<DamageRect> damage)
    {
        // Where B, G and R sit in the source pixel.
        (int b, int g, int r) = mode.Format switch
        {
            PixelFormat.A8R8G8B8 or PixelFormat.X8R8G8B8 => (3, 2, 1),
            PixelFormat.A8B8G8R8 or PixelFormat.X8B8G8R8 => (1, 2, 3),
            _ => (0, 1, 2),
        };
        int shadowStride = mode.Width * 4;
        foreach (DamageRect rect in damage)
        {
            if (rect.Width == 0 || rect.Height == 0)
            {
                continue;
            }

            // Copied in first (from one span or segments alike), then reordered in place: each pixel's bytes are read
            // before they are written.
            Span<byte> area = _shadow.AsSpan((rect.Y * shadowStride) + (rect.X * 4));
            frame.CopyRect(rect, area, shadowStride);
            for (int y = 0; y < rect.Height; y++)
            {
                Span<byte> row = area.Slice(y * shadowStride, rect.Width * 4);
                for (int x = 0; x < row.Length; x += 4)
                {
                    byte blue = row[x + b], green = row[x + g], red = row[x + r];
                    row[x] = blue;
                    row[x + 1] = green;
                    row[x + 2] = red;
                    row[x + 3] = 0xFF;
                }
            }
        }
    }
}

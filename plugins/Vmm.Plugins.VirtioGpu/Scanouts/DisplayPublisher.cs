using System.Diagnostics.Metrics;
using Vmm.Contracts.Display;
using Vmm.Plugins.VirtioGpu.Blobs;

namespace Vmm.Plugins.VirtioGpu.Scanouts;

/// <summary>
/// The display source's sink side: scanout 0's mode, frames and cursor, published to the connected sink under one
/// lock. A failing sink is logged and never fails the guest's command.
/// </summary>
internal sealed class DisplayPublisher(CommandLog log, Counter<long> frames)
{
    private readonly Lock _sinkLock = new();
    private readonly DamageRect[] _damage = new DamageRect[1];
    private readonly BackingSegments _segments = new();
    private IDisplaySink? _sink;
    private DisplayMode? _currentMode;
    private CursorShape? _cursorShape;
    private CursorPosition _cursorPosition;
    private ulong _sequence;

    public DisplayMode? CurrentMode
    {
        get
        {
            lock (_sinkLock)
            {
                return _currentMode;
            }
        }
    }

    public void Connect(IDisplaySink sink)
    {
        lock (_sinkLock)
        {
            _sink = sink;
        }
    }

    public void Disconnect()
    {
        lock (_sinkLock)
        {
            _sink = null;
        }
    }

    /// <summary>A 2D scanout's mode: the shown rect with the resource's stride.</summary>
    public static DisplayMode ModeOf(GpuResource2D resource, GpuRect shown)
        => new((int)shown.Width, (int)shown.Height, resource.Stride, resource.Format);

    /// <summary>A blob scanout's mode: the framebuffer's own stride, or the packed shadow's for a scanout shown only from it.</summary>
    public static DisplayMode BlobModeOf(Scanout scanout)
        => new((int)scanout.Rect.Width, (int)scanout.Rect.Height, scanout.BlobStride, scanout.Blob!.Value.Format);

    /// <summary>The shown rect straight from guest memory, when the blob's pages there are one span.</summary>
    public static bool TryGetDirectPixels(GpuBlobResource blob, BlobFramebuffer framebuffer, GpuRect shown, IGuestMemory memory, out Span<byte> pixels)
    {
        ulong length = SurfaceLength(framebuffer, shown);
        if (length > int.MaxValue)
        {
            pixels = default;
            return false;
        }

        return blob.TryGetContiguous(memory, framebuffer.OffsetOf(shown.X, shown.Y), (int)length, out pixels);
    }

    /// <summary>
    /// Whether frames of the shown rect can go out as segments over the blob's guest runs: a guest blob each of whose
    /// runs lies in one region of guest memory, with a surface an array can also hold (the shadow a sink that takes no
    /// segments is shown, at the same stride). <paramref name="surfaceLength"/>: the surface's bytes.
    /// </summary>
    public static bool CanSegment(GpuBlobResource blob, BlobFramebuffer framebuffer, GpuRect shown, IGuestMemory memory, out int surfaceLength)
    {
        ulong length = SurfaceLength(framebuffer, shown);
        surfaceLength = (int)Math.Min(length, int.MaxValue);
        return blob is { HostBlob: null, Backing: { } backing }
            && length <= (ulong)Array.MaxLength
            && backing.RunsResolve(memory, framebuffer.OffsetOf(shown.X, shown.Y) + length);
    }

    /// <summary>The bytes from the shown rect's first pixel to its last, rows at the framebuffer's stride.</summary>
    private static ulong SurfaceLength(BlobFramebuffer framebuffer, GpuRect shown)
        => ((ulong)(shown.Height - 1) * framebuffer.Stride) + ((ulong)shown.Width * GpuLayout.BytesPerPixel);

    public void PublishMode(DisplayMode mode)
    {
        lock (_sinkLock)
        {
            if (_currentMode == mode)
            {
                return;
            }

            _currentMode = mode;
            try
            {
                _sink?.OnModeChanged(mode);
            }
            catch (Exception exception) when (exception is not OutOfMemoryException)
            {
                log.SinkFailed(exception);
            }
        }
    }

    /// <summary>
    /// Publishes the shown part of <paramref name="resource"/> with one damage rect (scanout coordinates), from its
    /// host copy or, when its backing mirrors it, straight from guest memory; allocation-free.
    /// </summary>
    public void Publish(GpuResource2D resource, GpuRect shown, GpuRect damage, IGuestMemory? memory)
    {
        lock (_sinkLock)
        {
            IDisplaySink? sink = _sink;
            if (sink is null)
            {
                return;
            }

            int stride = resource.Stride;
            int start = ((int)shown.Y * stride) + ((int)shown.X * GpuLayout.BytesPerPixel);
            int length = ((int)(shown.Height - 1) * stride) + ((int)shown.Width * GpuLayout.BytesPerPixel);
            if (resource is { Mirrored: true, MirrorAddress: null, Backing: { } backing } && memory is not null)
            {
                if (TakesSegments(sink))
                {
                    // Scattered backing: the sink copies straight from the guest's runs; the host copy misses this damage.
                    resource.HostCopyCurrent = false;
                    _segments.Set(backing, memory, (ulong)start, length, resource.Pixels);
                    try
                    {
                        PublishFrameLocked(sink, ModeOf(resource, shown), _segments, damage);
                    }
                    finally
                    {
                        _segments.Clear();
                    }

                    return;
                }

                // A sink from before segmented frames: gather into the host copy, all of it once it fell behind, else
                // only the damage, and publish that.
                GatherLocked(resource, backing, memory, shown, damage);
                PublishFrameLocked(sink, ModeOf(resource, shown), resource.Pixels.AsSpan(start, length), damage);
                return;
            }

            PublishFrameLocked(sink, ModeOf(resource, shown), resource.PixelsIn(memory).Slice(start, length), damage);
        }
    }

    private static bool TakesSegments(IDisplaySink sink) => sink is IDisplaySegmentedFrameSink { AcceptsSegmentedFrames: true };

    private static void GatherLocked(GpuResource2D resource, GuestBacking backing, IGuestMemory memory, GpuRect shown, GpuRect damage)
    {
        if (!resource.HostCopyCurrent)
        {
            backing.Read(memory, 0, resource.Pixels);
            resource.HostCopyCurrent = true;
            return;
        }

        int stride = resource.Stride;
        int rowBytes = (int)damage.Width * GpuLayout.BytesPerPixel;
        for (uint row = damage.Y; row < damage.Y + damage.Height; row++)
        {
            int at = ((int)(shown.Y + row) * stride) + ((int)(shown.X + damage.X) * GpuLayout.BytesPerPixel);
            backing.Read(memory, (ulong)at, resource.Pixels.AsSpan(at, rowBytes));
        }
    }

    /// <summary>
    /// Publishes a blob scanout with one damage rect (scanout coordinates), read where the blob lives: straight from
    /// guest memory when its pages there are one span, in segments over its scattered pages for a sink that takes
    /// them, else by refreshing only the damaged part of the shadow; allocation-free once the shadow exists.
    /// </summary>
    public void PublishBlob(GpuBlobResource blob, Scanout scanout, GpuRect damage, IGuestMemory memory)
    {
        lock (_sinkLock)
        {
            IDisplaySink? sink = _sink;
            if (sink is null || scanout.Blob is not BlobFramebuffer framebuffer)
            {
                return;
            }

            GpuRect shown = scanout.Rect;
            switch (scanout.BlobSource)
            {
                case BlobSource.Direct:
                    if (TryGetDirectPixels(blob, framebuffer, shown, memory, out Span<byte> pixels))
                    {
                        PublishFrameLocked(sink, BlobModeOf(scanout), pixels, damage);
                    }

                    return;

                case BlobSource.Segments when TakesSegments(sink) && blob.Backing is { } backing:
                    // The sink copies straight from the guest's runs; the shadow misses this damage. A run guest memory
                    // no longer maps (checked at SET_SCANOUT_BLOB, so only a memory changed since) reads as zeros.
                    scanout.ShadowCurrent = false;
                    _segments.Set(backing, memory, framebuffer.OffsetOf(shown.X, shown.Y), (int)SurfaceLength(framebuffer, shown), fallback: null);
                    try
                    {
                        PublishFrameLocked(sink, BlobModeOf(scanout), _segments, damage);
                    }
                    finally
                    {
                        _segments.Clear();
                    }

                    return;

                default:
                    byte[] shadow = scanout.GetShadow();
                    GatherBlobLocked(blob, scanout, framebuffer, shadow, damage, memory);
                    PublishFrameLocked(sink, BlobModeOf(scanout), shadow, damage);
                    return;
            }
        }
    }

    /// <summary>Reads the damaged rows into the shadow: all of the shown rect while the shadow is behind the blob.</summary>
    private static void GatherBlobLocked(GpuBlobResource blob, Scanout scanout, BlobFramebuffer framebuffer, byte[] shadow, GpuRect damage, IGuestMemory memory)
    {
        GpuRect shown = scanout.Rect;
        GpuRect gathered = scanout.ShadowCurrent ? damage : shown with { X = 0, Y = 0 };
        scanout.ShadowCurrent = true;
        int shadowStride = scanout.BlobStride;
        int rowBytes = (int)gathered.Width * GpuLayout.BytesPerPixel;
        for (uint row = gathered.Y; row < gathered.Y + gathered.Height; row++)
        {
            ulong source = framebuffer.OffsetOf(shown.X + gathered.X, shown.Y + row);
            blob.Read(memory, source, shadow.AsSpan(((int)row * shadowStride) + ((int)gathered.X * GpuLayout.BytesPerPixel), rowBytes));
        }
    }

    /// <summary>A sink (re)connected: forgets the published mode so it goes out again; returns the cursor to resend.</summary>
    public (CursorShape? Shape, CursorPosition Position) BeginResend()
    {
        lock (_sinkLock)
        {
            _currentMode = null;
            return (_cursorShape, _cursorPosition);
        }
    }

    public void PublishCursor(CursorShape shape, CursorPosition position)
    {
        lock (_sinkLock)
        {
            _cursorShape = shape;
            try
            {
                _sink?.OnCursorShape(shape);
            }
            catch (Exception exception) when (exception is not OutOfMemoryException)
            {
                log.SinkFailed(exception);
            }

            PublishCursorPositionLocked(position);
        }
    }

    /// <summary>MOVE_CURSOR: the cursor is visible when it has a shape.</summary>
    public void MoveCursor(int x, int y)
    {
        lock (_sinkLock)
        {
            PublishCursorPositionLocked(new CursorPosition(x, y, _cursorShape is not null));
        }
    }

    /// <summary>UPDATE_CURSOR with resource 0: no shape, hidden.</summary>
    public void HideCursor(int x, int y)
    {
        lock (_sinkLock)
        {
            _cursorShape = null;
            PublishCursorPositionLocked(new CursorPosition(x, y, false));
        }
    }

    private void PublishFrameLocked(IDisplaySink sink, DisplayMode mode, ReadOnlySpan<byte> pixels, GpuRect damage)
    {
        _damage[0] = new DamageRect((int)damage.X, (int)damage.Y, (int)damage.Width, (int)damage.Height);
        DeliverLocked(sink, new DisplayFrame(mode, pixels, _damage, ++_sequence));
    }

    private void PublishFrameLocked(IDisplaySink sink, DisplayMode mode, IDisplayFrameSegments segments, GpuRect damage)
    {
        _damage[0] = new DamageRect((int)damage.X, (int)damage.Y, (int)damage.Width, (int)damage.Height);
        DeliverLocked(sink, new DisplayFrame(mode, segments, _damage, ++_sequence));
    }

    private void DeliverLocked(IDisplaySink sink, DisplayFrame frame)
    {
        try
        {
            sink.OnFrame(frame);
            frames.Add(1);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            log.SinkFailed(exception);
        }
    }

    private void PublishCursorPositionLocked(CursorPosition position)
    {
        _cursorPosition = position;
        try
        {
            _sink?.OnCursorPosition(position);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            log.SinkFailed(exception);
        }
    }
}

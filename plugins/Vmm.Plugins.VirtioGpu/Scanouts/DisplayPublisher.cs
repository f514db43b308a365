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

    /// <summary>A blob scanout's mode: the framebuffer's own stride when shown from guest memory, the shadow's otherwise.</summary>
    public static DisplayMode BlobModeOf(Scanout scanout)
    {
        BlobFramebuffer framebuffer = scanout.Blob!.Value;
        int stride = scanout.Shadow is null ? (int)framebuffer.Stride : (int)scanout.Rect.Width * GpuLayout.BytesPerPixel;
        return new DisplayMode((int)scanout.Rect.Width, (int)scanout.Rect.Height, stride, framebuffer.Format);
    }

    /// <summary>The shown rect straight from guest memory, when the blob's pages there are one span.</summary>
    public static bool TryGetDirectPixels(GpuBlobResource blob, BlobFramebuffer framebuffer, GpuRect shown, IGuestMemory memory, out Span<byte> pixels)
    {
        ulong start = framebuffer.OffsetOf(shown.X, shown.Y);
        ulong length = ((ulong)(shown.Height - 1) * framebuffer.Stride) + ((ulong)shown.Width * GpuLayout.BytesPerPixel);
        if (length > int.MaxValue)
        {
            pixels = default;
            return false;
        }

        return blob.TryGetContiguous(memory, start, (int)length, out pixels);
    }

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
    /// guest memory when its pages there are one span, else by refreshing only the damaged part of the shadow.
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
            byte[]? shadow = scanout.Shadow;
            if (shadow is null)
            {
                if (TryGetDirectPixels(blob, framebuffer, shown, memory, out Span<byte> pixels))
                {
                    PublishFrameLocked(sink, BlobModeOf(scanout), pixels, damage);
                }

                return;
            }

            int shadowStride = (int)shown.Width * GpuLayout.BytesPerPixel;
            int rowBytes = (int)damage.Width * GpuLayout.BytesPerPixel;
            for (uint row = damage.Y; row < damage.Y + damage.Height; row++)
            {
                ulong source = framebuffer.OffsetOf(shown.X + damage.X, shown.Y + row);
                blob.Read(memory, source, shadow.AsSpan(((int)row * shadowStride) + ((int)damage.X * GpuLayout.BytesPerPixel), rowBytes));
            }

            PublishFrameLocked(sink, BlobModeOf(scanout), shadow, damage);
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

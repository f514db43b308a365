using System.Buffers.Binary;
using Vmm.Contracts.Display;
using Vmm.Contracts.Memory;
using Vmm.Contracts.Virtio;
using Vmm.Plugins.VirtioGpu.Protocol;
using Vmm.Plugins.VirtioGpu.Resources;

namespace Vmm.Plugins.VirtioGpu;

/// <summary>The display-source half: scanout 0's frames and the cursor, published to the connected sink.</summary>
public sealed partial class VirtioGpuDevice
{
    private const int MaxCursorSize = 64;

    private static DisplayMode ModeOf(GpuResource2D resource, GpuRect shown)
        => new((int)shown.Width, (int)shown.Height, resource.Stride, resource.Format);

    /// <summary>A blob scanout's mode: the framebuffer's own stride when shown from guest memory, the shadow's otherwise.</summary>
    private static DisplayMode BlobModeOf(Scanout scanout)
    {
        BlobFramebuffer framebuffer = scanout.Blob!.Value;
        int stride = scanout.Shadow is null ? (int)framebuffer.Stride : (int)scanout.Rect.Width * GpuLayout.BytesPerPixel;
        return new DisplayMode((int)scanout.Rect.Width, (int)scanout.Rect.Height, stride, framebuffer.Format);
    }

    private void PublishMode(GpuResource2D resource, GpuRect shown) => PublishMode(ModeOf(resource, shown));

    private void PublishMode(DisplayMode mode)
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
                VirtioGpuLog.SinkFailed(_logger, Id, exception);
            }
        }
    }

    /// <summary>Publishes the shown part of <paramref name="resource"/> with one damage rect (scanout coordinates); allocation-free.</summary>
    private void Publish(GpuResource2D resource, GpuRect shown, DamageRect damage)
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
            PublishFrameLocked(sink, ModeOf(resource, shown), resource.Pixels.AsSpan(start, length), damage);
        }
    }

    /// <summary>
    /// Publishes a blob scanout with one damage rect (scanout coordinates), read where the blob lives: straight from
    /// guest memory when its pages there are one span, else by refreshing only the damaged part of the shadow.
    /// </summary>
    private void PublishBlob(GpuBlobResource blob, Scanout scanout, DamageRect damage, IGuestMemory memory)
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
            int rowBytes = damage.Width * GpuLayout.BytesPerPixel;
            for (int row = damage.Y; row < damage.Y + damage.Height; row++)
            {
                ulong source = framebuffer.OffsetOf(shown.X + (uint)damage.X, shown.Y + (uint)row);
                blob.Read(memory, source, shadow.AsSpan((row * shadowStride) + (damage.X * GpuLayout.BytesPerPixel), rowBytes));
            }

            PublishFrameLocked(sink, BlobModeOf(scanout), shadow, damage);
        }
    }

    private void PublishFrameLocked(IDisplaySink sink, DisplayMode mode, ReadOnlySpan<byte> pixels, DamageRect damage)
    {
        _damage[0] = damage;
        var frame = new DisplayFrame(mode, pixels, _damage, ++_sequence);
        try
        {
            sink.OnFrame(frame);
            _frames.Add(1);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            VirtioGpuLog.SinkFailed(_logger, Id, exception);
        }
    }

    /// <summary>A sink (re)connected: give it the mode, a full frame and the cursor.</summary>
    private void ResendToSink(IGuestMemory memory)
    {
        Scanout scanout = _scanouts[0];
        CursorShape? shape;
        CursorPosition position;
        lock (_sinkLock)
        {
            _currentMode = null;
            shape = _cursorShape;
            position = _cursorPosition;
        }

        var full = new DamageRect(0, 0, (int)scanout.Rect.Width, (int)scanout.Rect.Height);
        if (scanout.Blob is not null && _resources.TryGet(scanout.ResourceId, out GpuBlobResource? blob))
        {
            PublishMode(BlobModeOf(scanout));
            PublishBlob(blob, scanout, full, memory);
        }
        else if (scanout.ResourceId != 0 && _resources.TryGet(scanout.ResourceId, out GpuResource2D? resource))
        {
            PublishMode(resource, scanout.Rect);
            Publish(resource, scanout.Rect, full);
        }

        if (shape is not null)
        {
            PublishCursor(shape, position);
        }
    }

    private uint? HandleCursor(DescriptorChain chain)
    {
        // The cursor queue carries only device-readable buffers; nothing is written back (used length 0).
        Span<byte> request = stackalloc byte[GpuLayout.CursorCommandSize];
        int length = chain.Read(0, request);
        if (length < GpuLayout.CursorCommandSize)
        {
            VirtioGpuLog.CursorCommandIgnored(_logger, Id, $"request of {length} bytes, {GpuLayout.CursorCommandSize} needed");
            return 0;
        }

        uint type = BinaryPrimitives.ReadUInt32LittleEndian(request);
        uint scanout = BinaryPrimitives.ReadUInt32LittleEndian(request[24..]);
        int x = (int)BinaryPrimitives.ReadUInt32LittleEndian(request[28..]);
        int y = (int)BinaryPrimitives.ReadUInt32LittleEndian(request[32..]);
        uint resourceId = BinaryPrimitives.ReadUInt32LittleEndian(request[40..]);
        uint hotX = BinaryPrimitives.ReadUInt32LittleEndian(request[44..]);
        uint hotY = BinaryPrimitives.ReadUInt32LittleEndian(request[48..]);
        if (scanout >= _scanouts.Length)
        {
            VirtioGpuLog.CursorCommandIgnored(_logger, Id, $"no scanout {scanout}");
            return 0;
        }

        if (scanout != 0)
        {
            // Only scanout 0 is a display source.
            return 0;
        }

        switch (type)
        {
            case GpuCommandType.MoveCursor:
                lock (_sinkLock)
                {
                    PublishCursorPositionLocked(new CursorPosition(x, y, _cursorShape is not null));
                }

                return 0;
            case GpuCommandType.UpdateCursor:
                UpdateCursor(resourceId, hotX, hotY, x, y);
                return 0;
            default:
                VirtioGpuLog.CursorCommandIgnored(_logger, Id, $"unknown command 0x{type:x4}");
                return 0;
        }
    }

    private void UpdateCursor(uint resourceId, uint hotX, uint hotY, int x, int y)
    {
        if (resourceId == 0)
        {
            lock (_sinkLock)
            {
                _cursorShape = null;
                PublishCursorPositionLocked(new CursorPosition(x, y, false));
            }

            return;
        }

        if (_resources.TryGet(resourceId, out GpuBlobResource? blob))
        {
            UpdateCursorFromBlob(blob, hotX, hotY, x, y);
            return;
        }

        if (!_resources.TryGet(resourceId, out GpuResource2D? resource)
            || resource.Width > MaxCursorSize || resource.Height > MaxCursorSize)
        {
            VirtioGpuLog.CursorCommandIgnored(_logger, Id, $"resource {resourceId} is missing or larger than {MaxCursorSize}x{MaxCursorSize}");
            return;
        }

        // The shape outlives the call (a sink may keep it), so it gets its own copy, converted to B8G8R8A8.
        byte[] pixels = new byte[resource.Pixels.Length];
        GpuFormats.ToB8G8R8A8(resource.Format, resource.Pixels, pixels);
        var shape = new CursorShape(
            (int)resource.Width,
            (int)resource.Height,
            (int)Math.Min(hotX, resource.Width - 1),
            (int)Math.Min(hotY, resource.Height - 1),
            pixels);
        PublishCursor(shape, new CursorPosition(x, y, true));
    }

    /// <summary>
    /// A cursor from a dumb blob (Linux with RESOURCE_BLOB and no VIRGL): as QEMU, a 64x64 B8G8R8A8 image at the
    /// start of the blob (the cursor plane only offers ARGB8888).
    /// </summary>
    private void UpdateCursorFromBlob(GpuBlobResource blob, uint hotX, uint hotY, int x, int y)
    {
        const int Bytes = MaxCursorSize * MaxCursorSize * GpuLayout.BytesPerPixel;
        IGuestMemory? memory = _context?.Memory;
        if (memory is null || blob.Size < Bytes)
        {
            VirtioGpuLog.CursorCommandIgnored(_logger, Id, $"blob {blob.Id} holds fewer than {Bytes} bytes");
            return;
        }

        byte[] pixels = new byte[Bytes];
        try
        {
            blob.Read(memory, 0, pixels);
        }
        catch (GuestMemoryException exception)
        {
            VirtioGpuLog.CursorCommandIgnored(_logger, Id, exception.Message);
            return;
        }

        var shape = new CursorShape(MaxCursorSize, MaxCursorSize, (int)Math.Min(hotX, MaxCursorSize - 1), (int)Math.Min(hotY, MaxCursorSize - 1), pixels);
        PublishCursor(shape, new CursorPosition(x, y, true));
    }

    private void PublishCursor(CursorShape shape, CursorPosition position)
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
                VirtioGpuLog.SinkFailed(_logger, Id, exception);
            }

            PublishCursorPositionLocked(position);
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
            VirtioGpuLog.SinkFailed(_logger, Id, exception);
        }
    }
}

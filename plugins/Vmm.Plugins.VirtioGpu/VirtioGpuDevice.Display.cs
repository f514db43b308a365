using System.Buffers.Binary;
using Vmm.Contracts.Display;
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

    private void PublishMode(GpuResource2D resource, GpuRect shown)
    {
        DisplayMode mode = ModeOf(resource, shown);
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
            _damage[0] = damage;
            var frame = new DisplayFrame(ModeOf(resource, shown), resource.Pixels.AsSpan(start, length), _damage, ++_sequence);
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
    }

    /// <summary>A sink (re)connected: give it the mode, a full frame and the cursor.</summary>
    private void ResendToSink()
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

        if (scanout.ResourceId != 0 && _resources.TryGet(scanout.ResourceId, out GpuResource2D? resource))
        {
            PublishMode(resource, scanout.Rect);
            Publish(resource, scanout.Rect, new DamageRect(0, 0, (int)scanout.Rect.Width, (int)scanout.Rect.Height));
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

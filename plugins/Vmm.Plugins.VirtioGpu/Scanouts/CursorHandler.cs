using Vmm.Contracts.Display;
using Vmm.Plugins.VirtioGpu.Blobs;

namespace Vmm.Plugins.VirtioGpu.Scanouts;

/// <summary>
/// The cursor queue: UPDATE_CURSOR and MOVE_CURSOR on scanout 0 become the display source's cursor shape and
/// position. The queue has no replies, so a command that cannot apply is logged and dropped.
/// </summary>
internal sealed class CursorHandler(int scanoutCount, ResourceTable resources, DisplayPublisher display, CommandLog log)
{
    private const int MaxCursorSize = 64;

    public void Handle(ReadOnlySpan<byte> request, IGuestMemory? memory)
    {
        if (!GpuCommandDecoder.TryDecode(request, out GpuCommand command, out GpuDecodeError error))
        {
            log.CursorIgnored(error.Reason);
            return;
        }

        uint type = command.Header.Type;
        if (type is not (GpuCommandType.UpdateCursor or GpuCommandType.MoveCursor))
        {
            log.CursorIgnored($"unknown command 0x{type:x4}");
            return;
        }

        CursorUpdate cursor = command.Read<CursorUpdate>();
        if (cursor.ScanoutId >= scanoutCount)
        {
            log.CursorIgnored($"no scanout {cursor.ScanoutId}");
            return;
        }

        if (cursor.ScanoutId != 0)
        {
            // Only scanout 0 is a display source.
            return;
        }

        if (type == GpuCommandType.MoveCursor)
        {
            display.MoveCursor((int)cursor.X, (int)cursor.Y);
            return;
        }

        Update(cursor, memory);
    }

    private void Update(CursorUpdate cursor, IGuestMemory? memory)
    {
        (uint resourceId, int x, int y) = (cursor.ResourceId, (int)cursor.X, (int)cursor.Y);
        if (resourceId == 0)
        {
            display.HideCursor(x, y);
            return;
        }

        if (resources.TryGet(resourceId, out GpuBlobResource? blob))
        {
            UpdateFromBlob(blob, cursor, memory);
            return;
        }

        if (!resources.TryGet(resourceId, out GpuResource2D? resource)
            || resource.Width > MaxCursorSize || resource.Height > MaxCursorSize)
        {
            log.CursorIgnored($"resource {resourceId} is missing or larger than {MaxCursorSize}x{MaxCursorSize}");
            return;
        }

        // The shape outlives the call (a sink may keep it), so it gets its own copy, converted to B8G8R8A8.
        ReadOnlySpan<byte> source = resource.PixelsIn(memory);
        byte[] pixels = new byte[source.Length];
        GpuFormats.ToB8G8R8A8(resource.Format, source, pixels);
        var shape = new CursorShape(
            (int)resource.Width,
            (int)resource.Height,
            (int)Math.Min(cursor.HotX, resource.Width - 1),
            (int)Math.Min(cursor.HotY, resource.Height - 1),
            pixels);
        display.PublishCursor(shape, new CursorPosition(x, y, true));
    }

    /// <summary>
    /// A cursor from a dumb blob (Linux with RESOURCE_BLOB and no VIRGL): as QEMU, a 64x64 B8G8R8A8 image at the
    /// start of the blob (the cursor plane only offers ARGB8888).
    /// </summary>
    private void UpdateFromBlob(GpuBlobResource blob, CursorUpdate cursor, IGuestMemory? memory)
    {
        const int Bytes = MaxCursorSize * MaxCursorSize * GpuLayout.BytesPerPixel;
        if (memory is null || blob.Size < Bytes)
        {
            log.CursorIgnored($"blob {blob.Id} holds fewer than {Bytes} bytes");
            return;
        }

        byte[] pixels = new byte[Bytes];
        try
        {
            blob.Read(memory, 0, pixels);
        }
        catch (GuestMemoryException exception)
        {
            log.CursorIgnored(exception.Message);
            return;
        }

        var shape = new CursorShape(MaxCursorSize, MaxCursorSize, (int)Math.Min(cursor.HotX, MaxCursorSize - 1), (int)Math.Min(cursor.HotY, MaxCursorSize - 1), pixels);
        display.PublishCursor(shape, new CursorPosition((int)cursor.X, (int)cursor.Y, true));
    }
}

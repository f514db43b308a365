using System.Diagnostics.CodeAnalysis;
using Vmm.Contracts.Display;
using Vmm.Plugins.VirtioGpu.Blobs;
using Vmm.Plugins.VirtioGpu.Protocol.Responses;

namespace Vmm.Plugins.VirtioGpu.Scanouts;

/// <summary>
/// The scanouts: the modes they advertise (GET_DISPLAY_INFO, GET_EDID), what SET_SCANOUT and SET_SCANOUT_BLOB put
/// on them, and RESOURCE_FLUSH, which turns scanout 0's damage into frames for the <see cref="DisplayPublisher"/>.
/// </summary>
internal sealed class ScanoutHandler(IReadOnlyList<(int Width, int Height)> modes, bool edid, ResourceTable resources, DisplayPublisher display, CommandLog log)
{
    private readonly Scanout[] _scanouts = [.. modes.Select(m => new Scanout(m.Width, m.Height))];
    private readonly Lock _modesLock = new();

    public int Count => _scanouts.Length;

    /// <summary>Changes the mode scanout <paramref name="index"/> advertises; the caller checked the arguments.</summary>
    public void SetMode(int index, int width, int height)
    {
        lock (_modesLock)
        {
            _scanouts[index].Width = width;
            _scanouts[index].Height = height;
        }
    }

    public uint GetDisplayInfo(ref GpuResponse response)
    {
        ref DisplayInfoResponse info = ref response.Body<DisplayInfoResponse>();
        lock (_modesLock)
        {
            for (int i = 0; i < _scanouts.Length; i++)
            {
                info[i] = new DisplayOne(new GpuRect(0, 0, (uint)_scanouts[i].Width, (uint)_scanouts[i].Height), Enabled: 1, Flags: 0);
            }
        }

        return GpuResponseType.OkDisplayInfo;
    }

    public uint GetEdid(GpuControlHeader header, GetEdid command, ref GpuResponse response)
    {
        if (!edid)
        {
            return log.Reject(header, GpuResponseType.ErrUnspecified, "VIRTIO_GPU_F_EDID is not offered");
        }

        uint scanout = command.Scanout;
        if (scanout >= _scanouts.Length)
        {
            return log.Reject(header, GpuResponseType.ErrInvalidParameter, $"no scanout {scanout}");
        }

        ref EdidResponse body = ref response.Body<EdidResponse>();
        body.Size = EdidBlock.Size;
        lock (_modesLock)
        {
            ReadOnlySpan<(int, int)> shown = [(_scanouts[scanout].Width, _scanouts[scanout].Height)];
            EdidBlock.Write(shown, scanout + 1, body.Edid);
        }

        return GpuResponseType.OkEdid;
    }

    public uint SetScanout(GpuControlHeader header, SetScanout command, IGuestMemory memory)
    {
        (GpuRect rect, uint scanoutId, uint id) = (command.Rect, command.ScanoutId, command.ResourceId);
        if (!TryBeginSetScanout(header, scanoutId, id, out Scanout? scanout, out uint response))
        {
            return response;
        }

        if (resources.TryGet(id, out GpuBlobResource? _))
        {
            return log.Reject(header, GpuResponseType.ErrInvalidParameter, $"resource {id} is a blob: it needs SET_SCANOUT_BLOB");
        }

        if (!resources.TryGet(id, out GpuResource2D? resource))
        {
            return log.Reject(header, GpuResponseType.ErrInvalidResourceId, $"no resource {id}");
        }

        if (rect.IsEmpty || !rect.FitsIn(resource.Width, resource.Height))
        {
            return log.Reject(header, GpuResponseType.ErrInvalidParameter, $"scanout rect {rect} is not inside resource {id} ({resource.Width}x{resource.Height})");
        }

        bool changed = scanout.ResourceId != id || scanout.Rect != rect || scanout.Blob is not null;
        scanout.ShowResource(id, rect);
        if (changed)
        {
            log.ScanoutSet(scanoutId, id, rect);
        }

        if (scanoutId == 0)
        {
            display.PublishMode(DisplayPublisher.ModeOf(resource, rect));
            display.Publish(resource, rect, rect with { X = 0, Y = 0 }, memory);
        }

        return GpuResponseType.OkNoData;
    }

    public uint SetScanoutBlob(GpuControlHeader header, SetScanoutBlob command, IGuestMemory memory)
    {
        (GpuRect rect, uint scanoutId, uint id, uint width, uint height) = (command.Rect, command.ScanoutId, command.ResourceId, command.Width, command.Height);
        PlaneValues strides = command.Strides, offsets = command.Offsets;
        (uint stride, uint offset) = (strides[0], offsets[0]);
        if (!TryBeginSetScanout(header, scanoutId, id, out Scanout? scanout, out uint response))
        {
            return response;
        }

        if (!resources.TryGet(id, out GpuBlobResource? blob))
        {
            return log.Reject(header, GpuResponseType.ErrInvalidResourceId, $"no blob resource {id}");
        }

        if (!GpuFormats.TryGet(command.Format, out PixelFormat format))
        {
            return log.Reject(header, GpuResponseType.ErrInvalidParameter, $"unknown format {command.Format}");
        }

        if (width == 0 || height == 0 || rect.IsEmpty || !rect.FitsIn(width, height))
        {
            return log.Reject(header, GpuResponseType.ErrInvalidParameter, $"scanout rect {rect} is not inside the {width}x{height} framebuffer");
        }

        // Every row of the framebuffer lies in the blob: stride * (height - 1) + width * 4 bytes from offset. 128-bit
        // arithmetic, so no guest value can wrap the sum.
        UInt128 rowBytes = (UInt128)width * GpuLayout.BytesPerPixel;
        UInt128 end = offset + ((UInt128)stride * (height - 1)) + rowBytes;
        if (stride < rowBytes || stride > int.MaxValue || end > blob.Size)
        {
            return log.Reject(header, GpuResponseType.ErrInvalidParameter, $"a {width}x{height} framebuffer with stride {stride} at offset {offset} does not fit blob {id} (0x{blob.Size:x} bytes)");
        }

        var framebuffer = new BlobFramebuffer(format, width, height, stride, offset);
        (BlobSource source, int shadowLength) = (BlobSource.Direct, 0);
        if (scanoutId == 0 && !DisplayPublisher.TryGetDirectPixels(blob, framebuffer, rect, memory, out _))
        {
            if (DisplayPublisher.CanSegment(blob, framebuffer, rect, memory, out int surfaceLength))
            {
                (source, shadowLength) = (BlobSource.Segments, surfaceLength);
            }
            else
            {
                // Below the blob size (already within the limits), but a .NET array has its own bound.
                ulong shadowBytes = (ulong)rect.Width * rect.Height * GpuLayout.BytesPerPixel;
                if (shadowBytes > (ulong)Array.MaxLength)
                {
                    return log.Reject(header, GpuResponseType.ErrOutOfMemory, $"a {rect.Width}x{rect.Height} scanout is too large to show");
                }

                (source, shadowLength) = (BlobSource.Shadow, (int)shadowBytes);
            }
        }

        bool changed = scanout.ResourceId != id || scanout.Rect != rect || scanout.Blob != framebuffer;
        scanout.ShowBlob(id, rect, framebuffer, source, shadowLength);
        if (changed)
        {
            log.ScanoutSet(scanoutId, id, rect);
        }

        if (scanoutId == 0)
        {
            display.PublishMode(DisplayPublisher.BlobModeOf(scanout));
            display.PublishBlob(blob, scanout, rect with { X = 0, Y = 0 }, memory);
        }

        return GpuResponseType.OkNoData;
    }

    public uint Flush(GpuControlHeader header, ResourceFlush command, IGuestMemory memory)
    {
        (GpuRect rect, uint id) = (command.Rect, command.ResourceId);
        if (resources.TryGet(id, out GpuBlobResource? blob))
        {
            return FlushBlob(header, blob, rect, memory);
        }

        if (!resources.TryGet(id, out GpuResource2D? resource))
        {
            return log.Reject(header, GpuResponseType.ErrInvalidResourceId, $"no resource {id}");
        }

        if (!rect.FitsIn(resource.Width, resource.Height))
        {
            return log.Reject(header, GpuResponseType.ErrInvalidParameter, $"flush rect {rect} is not inside resource {id} ({resource.Width}x{resource.Height})");
        }

        // The damage in scanout coordinates: the flushed rect clipped to the shown part of the resource.
        Scanout scanout = _scanouts[0];
        if (scanout.ResourceId == id && scanout.Blob is null && rect.TryClipTo(scanout.Rect, out GpuRect damage))
        {
            display.Publish(resource, scanout.Rect, damage, memory);
        }

        return GpuResponseType.OkNoData;
    }

    /// <summary>As QEMU does: a scanout whose resource goes away is disabled rather than left pointing at nothing.</summary>
    public void DisableShowing(uint resourceId)
    {
        foreach (Scanout scanout in _scanouts)
        {
            if (scanout.ResourceId == resourceId)
            {
                scanout.Disable();
            }
        }
    }

    public void DisableAll()
    {
        foreach (Scanout scanout in _scanouts)
        {
            scanout.Disable();
        }
    }

    /// <summary>A sink (re)connected: give it the mode, a full frame and the cursor.</summary>
    public void Resend(IGuestMemory memory)
    {
        Scanout scanout = _scanouts[0];
        (CursorShape? shape, CursorPosition position) = display.BeginResend();
        GpuRect full = scanout.Rect with { X = 0, Y = 0 };
        if (scanout.Blob is not null && resources.TryGet(scanout.ResourceId, out GpuBlobResource? blob))
        {
            display.PublishMode(DisplayPublisher.BlobModeOf(scanout));
            display.PublishBlob(blob, scanout, full, memory);
        }
        else if (scanout.ResourceId != 0 && resources.TryGet(scanout.ResourceId, out GpuResource2D? resource))
        {
            display.PublishMode(DisplayPublisher.ModeOf(resource, scanout.Rect));
            display.Publish(resource, scanout.Rect, full, memory);
        }

        if (shape is not null)
        {
            display.PublishCursor(shape, position);
        }
    }

    private uint FlushBlob(GpuControlHeader header, GpuBlobResource blob, GpuRect rect, IGuestMemory memory)
    {
        Scanout scanout = _scanouts[0];
        if (scanout.ResourceId != blob.Id || scanout.Blob is not BlobFramebuffer framebuffer)
        {
            return GpuResponseType.OkNoData;
        }

        if (!rect.FitsIn(framebuffer.Width, framebuffer.Height))
        {
            return log.Reject(header, GpuResponseType.ErrInvalidParameter, $"flush rect {rect} is not inside the {framebuffer.Width}x{framebuffer.Height} framebuffer of blob {blob.Id}");
        }

        if (rect.TryClipTo(scanout.Rect, out GpuRect damage))
        {
            display.PublishBlob(blob, scanout, damage, memory);
        }

        return GpuResponseType.OkNoData;
    }

    /// <summary>
    /// What SET_SCANOUT and SET_SCANOUT_BLOB share: the scanout must exist, and resource 0 turns it off. False with
    /// the response to send when the command ends here.
    /// </summary>
    private bool TryBeginSetScanout(GpuControlHeader header, uint scanoutId, uint resourceId, [NotNullWhen(true)] out Scanout? scanout, out uint response)
    {
        scanout = null;
        response = GpuResponseType.OkNoData;
        if (scanoutId >= _scanouts.Length)
        {
            response = log.Reject(header, GpuResponseType.ErrInvalidScanoutId, $"no scanout {scanoutId}");
            return false;
        }

        if (resourceId == 0)
        {
            _scanouts[scanoutId].Disable();
            return false;
        }

        scanout = _scanouts[scanoutId];
        return true;
    }
}

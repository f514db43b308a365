using System.Buffers.Binary;
using Vmm.Contracts.Display;
using Vmm.Contracts.Gpu;
using Vmm.Contracts.Memory;
using Vmm.Contracts.Virtio;
using Vmm.Plugins.VirtioGpu.Protocol;
using Vmm.Plugins.VirtioGpu.Resources;

namespace Vmm.Plugins.VirtioGpu;

/// <summary>
/// Blob resources (VIRTIO_GPU_F_RESOURCE_BLOB): RESOURCE_CREATE_BLOB, MAP/UNMAP_BLOB into the host-visible window
/// (shared-memory region 1) and SET_SCANOUT_BLOB, whose flushes publish the damage read where the blob lives.
/// </summary>
public sealed partial class VirtioGpuDevice
{
    private static ulong PageSize => (ulong)Environment.SystemPageSize;

    private uint CreateBlob(GpuControlHeader header, ReadOnlySpan<byte> request, DescriptorChain chain, IGuestMemory memory)
    {
        uint id = U32(request, 24);
        uint memoryType = U32(request, 28);
        uint flags = U32(request, 32);
        uint count = U32(request, 36);
        ulong blobId = BinaryPrimitives.ReadUInt64LittleEndian(request[40..]);
        ulong size = BinaryPrimitives.ReadUInt64LittleEndian(request[48..]);
        if (id == 0 || _resources.Contains(id))
        {
            return Reject(header, GpuResponseType.ErrInvalidResourceId, $"resource id {id} is 0 or in use");
        }

        if ((flags & ~GpuLayout.BlobFlagsKnown) != 0)
        {
            return Reject(header, GpuResponseType.ErrInvalidParameter, $"unknown blob flags 0x{flags:x}");
        }

        bool guestPages = memoryType is GpuLayout.BlobMemGuest or GpuLayout.BlobMemHost3DGuest;
        bool hostMemory = memoryType is GpuLayout.BlobMemHost3D or GpuLayout.BlobMemHost3DGuest;
        if (!guestPages && !hostMemory)
        {
            return Reject(header, GpuResponseType.ErrInvalidParameter, $"unknown blob_mem {memoryType}");
        }

        if (size == 0)
        {
            return Reject(header, GpuResponseType.ErrInvalidParameter, "an empty blob");
        }

        if (!guestPages && count != 0)
        {
            return Reject(header, GpuResponseType.ErrInvalidParameter, $"a host-only blob with {count} guest memory entries");
        }

        // Guest pages count too: the device reads them for scanouts, and the limit bounds what one guest can make it track.
        if (!_resources.CanCharge(size))
        {
            return Reject(header, GpuResponseType.ErrOutOfMemory, $"a blob of 0x{size:x} bytes exceeds the resource limits");
        }

        GuestBacking? backing = null;
        if (guestPages)
        {
            uint response = ReadBacking(header, chain, memory, GpuLayout.CreateBlobSize, count, out backing);
            if (backing is null)
            {
                return response;
            }

            if (backing.Length < size)
            {
                return Reject(header, GpuResponseType.ErrInvalidParameter, $"0x{backing.Length:x} bytes of guest memory for a blob of 0x{size:x}");
            }
        }

        IGpuBlob? hostBlob = null;
        if (hostMemory)
        {
            uint response = CreateHostBlob(header, id, blobId, size, out hostBlob);
            if (hostBlob is null)
            {
                return response;
            }
        }

        _resources.Add(new GpuBlobResource(id, memoryType, flags, size, backing, hostBlob));
        return GpuResponseType.OkNoData;
    }

    /// <summary>Asks the creating context (hdr.ctx_id) for the host memory behind <paramref name="blobId"/>.</summary>
    private uint CreateHostBlob(GpuControlHeader header, uint id, ulong blobId, ulong size, out IGpuBlob? hostBlob)
    {
        hostBlob = null;
        if (!_contexts.TryGetValue(header.ContextId, out IGpuContext? context) || context is null)
        {
            return Reject(header, GpuResponseType.ErrInvalidParameter, $"host blob from context {header.ContextId}, which is unknown or has no context type");
        }

        IGpuBlob? blob;
        try
        {
            blob = context.CreateBlob(id, blobId, size);
        }
        catch (VirtioProtocolException exception)
        {
            return Reject(header, GpuResponseType.ErrInvalidParameter, exception.Message);
        }
        catch (IOException exception)
        {
            // The context could not get host memory (memfd, ftruncate): the guest's allocation fails, not the device.
            return Reject(header, GpuResponseType.ErrOutOfMemory, exception.Message);
        }

        if (blob is null)
        {
            return Reject(header, GpuResponseType.ErrInvalidParameter, $"context {header.ContextId} has no blob {blobId}");
        }

        if (blob.Size < size || blob.FileOffset < 0)
        {
            blob.Dispose();
            return Reject(header, GpuResponseType.ErrInvalidParameter, $"context {header.ContextId} blob {blobId} has 0x{blob.Size:x} bytes, 0x{size:x} asked for");
        }

        hostBlob = blob;
        return GpuResponseType.OkNoData;
    }

    private uint MapBlob(GpuControlHeader header, ReadOnlySpan<byte> request, ref int responseLength)
    {
        uint id = U32(request, 24);
        ulong offset = BinaryPrimitives.ReadUInt64LittleEndian(request[32..]);
        if (!_resources.TryGet(id, out GpuResource? resource))
        {
            return Reject(header, GpuResponseType.ErrInvalidResourceId, $"no resource {id}");
        }

        ISharedMemoryRegion? window = _hostVisible;
        if (window is null)
        {
            return Reject(header, GpuResponseType.ErrUnspecified, "no host-visible window (none configured, or the platform cannot map one)");
        }

        if (resource is not GpuBlobResource { IsMappable: true } blob)
        {
            return Reject(header, GpuResponseType.ErrInvalidParameter, $"resource {id} is not a mappable host blob");
        }

        if (blob.IsMapped)
        {
            return Reject(header, GpuResponseType.ErrInvalidParameter, $"blob {id} is already mapped at 0x{blob.MappedOffset:x}");
        }

        IGpuBlob host = blob.HostBlob!;
        ulong length = RoundUpToPage(blob.Size);
        if (offset % PageSize != 0 || offset > window.Size || length > window.Size - offset)
        {
            return Reject(header, GpuResponseType.ErrInvalidParameter, $"blob {id} (0x{length:x} bytes) at 0x{offset:x} is unaligned or outside the 0x{window.Size:x}-byte window");
        }

        if ((ulong)host.FileOffset % PageSize != 0)
        {
            return Reject(header, GpuResponseType.ErrInvalidParameter, $"blob {id} starts at unaligned file offset 0x{host.FileOffset:x}");
        }

        foreach (GpuResource other in _resources.All)
        {
            if (other is GpuBlobResource mapped && mapped.OverlapsMapping(offset, length))
            {
                return Reject(header, GpuResponseType.ErrInvalidParameter, $"blob {id} at 0x{offset:x} overlaps blob {mapped.Id} at 0x{mapped.MappedOffset:x}");
            }
        }

        try
        {
            window.MapFile(offset, host.File, host.FileOffset, length, writable: true);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            // A host failure (mmap refused, a closed fd) fails the command; the window keeps what it had.
            return Reject(header, GpuResponseType.ErrUnspecified, $"mapping blob {id}: {exception.Message}");
        }

        blob.SetMapped(offset, length);
        Span<byte> body = _response.AsSpan(GpuLayout.HeaderSize, GpuLayout.MapInfoResponseSize - GpuLayout.HeaderSize);
        body.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(body, GpuLayout.MapCacheCached);
        responseLength = GpuLayout.MapInfoResponseSize;
        return GpuResponseType.OkMapInfo;
    }

    private uint UnmapBlob(GpuControlHeader header, ReadOnlySpan<byte> request)
    {
        uint id = U32(request, 24);
        if (!_resources.TryGet(id, out GpuResource? resource))
        {
            return Reject(header, GpuResponseType.ErrInvalidResourceId, $"no resource {id}");
        }

        if (resource is not GpuBlobResource { IsMapped: true } blob)
        {
            return Reject(header, GpuResponseType.ErrInvalidParameter, $"resource {id} is not mapped");
        }

        UnmapFromWindow(blob);
        return GpuResponseType.OkNoData;
    }

    private uint SetScanoutBlob(GpuControlHeader header, ReadOnlySpan<byte> request, IGuestMemory memory)
    {
        GpuRect rect = GpuRect.Read(request[24..]);
        uint scanoutId = U32(request, 40);
        uint id = U32(request, 44);
        uint width = U32(request, 48);
        uint height = U32(request, 52);
        uint formatValue = U32(request, 56);
        uint stride = U32(request, 64);
        uint offset = U32(request, 80);
        if (!TryBeginSetScanout(header, scanoutId, id, out Scanout? scanout, out uint response))
        {
            return response;
        }

        if (!_resources.TryGet(id, out GpuBlobResource? blob))
        {
            return Reject(header, GpuResponseType.ErrInvalidResourceId, $"no blob resource {id}");
        }

        if (!GpuFormats.TryGet(formatValue, out PixelFormat format))
        {
            return Reject(header, GpuResponseType.ErrInvalidParameter, $"unknown format {formatValue}");
        }

        if (width == 0 || height == 0 || rect.IsEmpty || !rect.FitsIn(width, height))
        {
            return Reject(header, GpuResponseType.ErrInvalidParameter, $"scanout rect {rect} is not inside the {width}x{height} framebuffer");
        }

        // Every row of the framebuffer lies in the blob: stride * (height - 1) + width * 4 bytes from offset. 128-bit
        // arithmetic, so no guest value can wrap the sum.
        UInt128 rowBytes = (UInt128)width * GpuLayout.BytesPerPixel;
        UInt128 end = offset + ((UInt128)stride * (height - 1)) + rowBytes;
        if (stride < rowBytes || stride > int.MaxValue || end > blob.Size)
        {
            return Reject(header, GpuResponseType.ErrInvalidParameter, $"a {width}x{height} framebuffer with stride {stride} at offset {offset} does not fit blob {id} (0x{blob.Size:x} bytes)");
        }

        var framebuffer = new BlobFramebuffer(format, width, height, stride, offset);
        byte[]? shadow = null;
        if (scanoutId == 0 && !TryGetDirectPixels(blob, framebuffer, rect, memory, out _))
        {
            // Below the blob size (already within the limits), but a .NET array has its own bound.
            ulong shadowBytes = (ulong)rect.Width * rect.Height * GpuLayout.BytesPerPixel;
            if (shadowBytes > (ulong)Array.MaxLength)
            {
                return Reject(header, GpuResponseType.ErrOutOfMemory, $"a {rect.Width}x{rect.Height} scanout is too large to show");
            }

            shadow = scanout.Shadow is { } previous && (ulong)previous.Length == shadowBytes ? previous : new byte[shadowBytes];
        }

        bool changed = scanout.ResourceId != id || scanout.Rect != rect || scanout.Blob != framebuffer;
        scanout.ShowBlob(id, rect, framebuffer, shadow);
        if (changed)
        {
            VirtioGpuLog.ScanoutSet(_logger, Id, scanoutId, id, rect.Width, rect.Height);
        }

        if (scanoutId == 0)
        {
            PublishMode(BlobModeOf(scanout));
            PublishBlob(blob, scanout, new DamageRect(0, 0, (int)rect.Width, (int)rect.Height), memory);
        }

        return GpuResponseType.OkNoData;
    }

    /// <summary>
    /// TRANSFER_TO_HOST_2D on a blob: Linux still sends it for dumb blob buffers (virtio_gpu_update_dumb_bo). As in
    /// QEMU it succeeds without copying: scanouts read the blob's own pages at flush time.
    /// </summary>
    private uint TransferToBlob(GpuControlHeader header, GpuBlobResource blob)
        => blob.Backing is null
            ? Reject(header, GpuResponseType.ErrUnspecified, $"blob {blob.Id} has no guest pages to transfer from")
            : GpuResponseType.OkNoData;

    private uint FlushBlob(GpuControlHeader header, GpuBlobResource blob, GpuRect rect, IGuestMemory memory)
    {
        Scanout scanout = _scanouts[0];
        if (scanout.ResourceId != blob.Id || scanout.Blob is not BlobFramebuffer framebuffer)
        {
            return GpuResponseType.OkNoData;
        }

        if (!rect.FitsIn(framebuffer.Width, framebuffer.Height))
        {
            return Reject(header, GpuResponseType.ErrInvalidParameter, $"flush rect {rect} is not inside the {framebuffer.Width}x{framebuffer.Height} framebuffer of blob {blob.Id}");
        }

        GpuRect shown = scanout.Rect;
        long left = Math.Max(rect.X, shown.X);
        long top = Math.Max(rect.Y, shown.Y);
        long right = Math.Min((long)rect.X + rect.Width, (long)shown.X + shown.Width);
        long bottom = Math.Min((long)rect.Y + rect.Height, (long)shown.Y + shown.Height);
        if (right > left && bottom > top)
        {
            PublishBlob(blob, scanout, new DamageRect((int)(left - shown.X), (int)(top - shown.Y), (int)(right - left), (int)(bottom - top)), memory);
        }

        return GpuResponseType.OkNoData;
    }

    /// <summary>The shown rect straight from guest memory, when the blob's pages there are one span.</summary>
    private static bool TryGetDirectPixels(GpuBlobResource blob, BlobFramebuffer framebuffer, GpuRect shown, IGuestMemory memory, out Span<byte> pixels)
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

    private void UnmapFromWindow(GpuBlobResource blob)
    {
        try
        {
            _hostVisible?.Unmap(blob.MappedOffset, blob.MappedLength);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            VirtioGpuLog.CommandRejected(_logger, Id, GpuCommandType.ResourceUnmapBlob, GpuResponseType.ErrUnspecified, $"unmapping blob {blob.Id}: {exception.Message}");
        }

        blob.ClearMapped();
    }

    /// <summary>A blob going away: out of the window first (the guest must never reach a closed file), then its host memory.</summary>
    private void ReleaseBlob(GpuBlobResource blob)
    {
        if (blob.IsMapped)
        {
            UnmapFromWindow(blob);
        }

        blob.Dispose();
    }

    private void ReleaseResources()
    {
        foreach (GpuResource resource in _resources.All)
        {
            if (resource is GpuBlobResource blob)
            {
                ReleaseBlob(blob);
            }
        }

        _resources.Clear();
    }

    private static ulong RoundUpToPage(ulong size)
    {
        // size > 0 and below the resource byte limit (a long), so the rounding cannot wrap.
        ulong mask = PageSize - 1;
        return (size + mask) & ~mask;
    }
}

using Vmm.Contracts.Gpu;
using Vmm.Plugins.VirtioGpu.Contexts;
using Vmm.Plugins.VirtioGpu.Protocol.Responses;

namespace Vmm.Plugins.VirtioGpu.Blobs;

/// <summary>
/// Blob resources (VIRTIO_GPU_F_RESOURCE_BLOB): RESOURCE_CREATE_BLOB from guest pages or a context's host memory,
/// MAP/UNMAP_BLOB into the <see cref="HostVisibleWindow"/>, and releasing a blob (out of the window first).
/// </summary>
internal sealed class BlobHandler(ResourceTable resources, BackingReader backingReader, ContextHost contexts, CommandLog log)
{
    private volatile HostVisibleWindow? _window;

    /// <summary>Whether the platform gave the device its host-visible window (MAP_BLOB works).</summary>
    public bool HasWindow => _window is not null;

    /// <summary>The window for this activation; null when none was configured or the platform cannot map one.</summary>
    public void SetWindow(ISharedMemoryRegion? region) => _window = region is null ? null : new HostVisibleWindow(region);

    public uint Create(GpuControlHeader header, ResourceCreateBlob command, DescriptorChain chain, IGuestMemory memory)
    {
        (uint id, uint memoryType, uint flags, uint count, ulong size) = (command.ResourceId, command.MemoryType, command.Flags, command.EntryCount, command.Size);
        if (id == 0 || resources.Contains(id))
        {
            return log.Reject(header, GpuResponseType.ErrInvalidResourceId, $"resource id {id} is 0 or in use");
        }

        if ((flags & ~GpuLayout.BlobFlagsKnown) != 0)
        {
            return log.Reject(header, GpuResponseType.ErrInvalidParameter, $"unknown blob flags 0x{flags:x}");
        }

        bool guestPages = memoryType is GpuLayout.BlobMemGuest or GpuLayout.BlobMemHost3DGuest;
        bool hostMemory = memoryType is GpuLayout.BlobMemHost3D or GpuLayout.BlobMemHost3DGuest;
        if (!guestPages && !hostMemory)
        {
            return log.Reject(header, GpuResponseType.ErrInvalidParameter, $"unknown blob_mem {memoryType}");
        }

        if (size == 0)
        {
            return log.Reject(header, GpuResponseType.ErrInvalidParameter, "an empty blob");
        }

        if (!guestPages && count != 0)
        {
            return log.Reject(header, GpuResponseType.ErrInvalidParameter, $"a host-only blob with {count} guest memory entries");
        }

        // Guest pages count too: the device reads them for scanouts, and the limit bounds what one guest can make it track.
        if (!resources.CanCharge(size))
        {
            return log.Reject(header, GpuResponseType.ErrOutOfMemory, $"a blob of 0x{size:x} bytes exceeds the resource limits");
        }

        GuestBacking? backing = null;
        if (guestPages)
        {
            uint response = backingReader.Read(header, chain, memory, GpuCommandDecoder.CommandSize<ResourceCreateBlob>(), count, out backing);
            if (backing is null)
            {
                return response;
            }

            if (backing.Length < size)
            {
                return log.Reject(header, GpuResponseType.ErrInvalidParameter, $"0x{backing.Length:x} bytes of guest memory for a blob of 0x{size:x}");
            }
        }

        IGpuBlob? hostBlob = null;
        if (hostMemory)
        {
            uint response = CreateHostBlob(header, id, command.BlobId, size, out hostBlob);
            if (hostBlob is null)
            {
                return response;
            }
        }

        resources.Add(new GpuBlobResource(id, memoryType, flags, size, backing, hostBlob));
        return GpuResponseType.OkNoData;
    }

    public uint Map(GpuControlHeader header, ResourceMapBlob command, ref GpuResponse response)
    {
        (uint id, ulong offset) = (command.ResourceId, command.Offset);
        if (!resources.TryGet(id, out GpuResource? resource))
        {
            return log.Reject(header, GpuResponseType.ErrInvalidResourceId, $"no resource {id}");
        }

        HostVisibleWindow? window = _window;
        if (window is null)
        {
            return log.Reject(header, GpuResponseType.ErrUnspecified, "no host-visible window (none configured, or the platform cannot map one)");
        }

        if (resource is not GpuBlobResource { IsMappable: true } blob)
        {
            return log.Reject(header, GpuResponseType.ErrInvalidParameter, $"resource {id} is not a mappable host blob");
        }

        if (blob.IsMapped)
        {
            return log.Reject(header, GpuResponseType.ErrInvalidParameter, $"blob {id} is already mapped at 0x{blob.MappedOffset:x}");
        }

        if (window.CheckPlacement(blob, offset, resources.All) is { } refusal)
        {
            return log.Reject(header, GpuResponseType.ErrInvalidParameter, refusal);
        }

        try
        {
            window.Map(blob, offset);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            // A host failure (mmap refused, a closed fd) fails the command; the window keeps what it had.
            return log.Reject(header, GpuResponseType.ErrUnspecified, $"mapping blob {id}: {exception.Message}");
        }

        response.Write(new MapInfoResponse(GpuLayout.MapCacheCached));
        return GpuResponseType.OkMapInfo;
    }

    public uint Unmap(GpuControlHeader header, ResourceUnmapBlob command)
    {
        uint id = command.ResourceId;
        if (!resources.TryGet(id, out GpuResource? resource))
        {
            return log.Reject(header, GpuResponseType.ErrInvalidResourceId, $"no resource {id}");
        }

        if (resource is not GpuBlobResource { IsMapped: true } blob)
        {
            return log.Reject(header, GpuResponseType.ErrInvalidParameter, $"resource {id} is not mapped");
        }

        UnmapFromWindow(blob);
        return GpuResponseType.OkNoData;
    }

    /// <summary>A blob going away: out of the window first (the guest must never reach a closed file), then its host memory.</summary>
    public void Release(GpuBlobResource blob)
    {
        if (blob.IsMapped)
        {
            UnmapFromWindow(blob);
        }

        blob.Dispose();
    }

    /// <summary>Releases every blob and empties the resource table (reset, dispose).</summary>
    public void ReleaseAll()
    {
        foreach (GpuResource resource in resources.All)
        {
            if (resource is GpuBlobResource blob)
            {
                Release(blob);
            }
        }

        resources.Clear();
    }

    /// <summary>Asks the creating context (hdr.ctx_id) for the host memory behind <paramref name="blobId"/>.</summary>
    private uint CreateHostBlob(GpuControlHeader header, uint id, ulong blobId, ulong size, out IGpuBlob? hostBlob)
    {
        hostBlob = null;
        if (!contexts.TryGetContext(header.ContextId, out IGpuContext? context))
        {
            return log.Reject(header, GpuResponseType.ErrInvalidParameter, $"host blob from context {header.ContextId}, which is unknown or has no context type");
        }

        IGpuBlob? blob;
        try
        {
            blob = context.CreateBlob(id, blobId, size);
        }
        catch (VirtioProtocolException exception)
        {
            return log.Reject(header, GpuResponseType.ErrInvalidParameter, exception.Message);
        }
        catch (IOException exception)
        {
            // The context could not get host memory (memfd, ftruncate): the guest's allocation fails, not the device.
            return log.Reject(header, GpuResponseType.ErrOutOfMemory, exception.Message);
        }

        if (blob is null)
        {
            return log.Reject(header, GpuResponseType.ErrInvalidParameter, $"context {header.ContextId} has no blob {blobId}");
        }

        if (blob.Size < size || blob.FileOffset < 0)
        {
            blob.Dispose();
            return log.Reject(header, GpuResponseType.ErrInvalidParameter, $"context {header.ContextId} blob {blobId} has 0x{blob.Size:x} bytes, 0x{size:x} asked for");
        }

        hostBlob = blob;
        return GpuResponseType.OkNoData;
    }

    private void UnmapFromWindow(GpuBlobResource blob)
    {
        try
        {
            _window?.Unmap(blob);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            VirtioGpuLog.CommandRejected(log.Logger, log.DeviceId, GpuCommandType.ResourceUnmapBlob, GpuResponseType.ErrUnspecified, $"unmapping blob {blob.Id}: {exception.Message}");
        }

        blob.ClearMapped();
    }
}

using Vmm.Contracts.Display;
using Vmm.Plugins.VirtioGpu.Blobs;

namespace Vmm.Plugins.VirtioGpu.Resources;

/// <summary>
/// 2D resources: RESOURCE_CREATE_2D, ATTACH/DETACH_BACKING and TRANSFER_TO_HOST_2D, which copies the guest's
/// backing into the host pixels scanouts show, unless the backing mirrors the resource (<see cref="GpuResource2D.Mirrored"/>).
/// </summary>
internal sealed class Resource2DHandler(ResourceTable resources, BackingReader backingReader, CommandLog log, bool mirror = true)
{
    public uint Create(GpuControlHeader header, ResourceCreate2D command)
    {
        (uint id, uint width, uint height) = (command.ResourceId, command.Width, command.Height);
        if (id == 0 || resources.Contains(id))
        {
            return log.Reject(header, GpuResponseType.ErrInvalidResourceId, $"resource id {id} is 0 or in use");
        }

        if (!GpuFormats.TryGet(command.Format, out PixelFormat format))
        {
            return log.Reject(header, GpuResponseType.ErrInvalidParameter, $"unknown format {command.Format}");
        }

        if (width == 0 || height == 0)
        {
            return log.Reject(header, GpuResponseType.ErrInvalidParameter, $"empty resource {width}x{height}");
        }

        // Both factors are below 2^32, so the product fits in 64 bits; the * 4 is checked against the limits.
        ulong pixels = (ulong)width * height;
        if (pixels > (ulong)Array.MaxLength / GpuLayout.BytesPerPixel || !resources.CanAdd(pixels * GpuLayout.BytesPerPixel))
        {
            return log.Reject(header, GpuResponseType.ErrOutOfMemory, $"{width}x{height} exceeds the resource limits");
        }

        byte[] storage;
        try
        {
            storage = new byte[pixels * GpuLayout.BytesPerPixel];
        }
        catch (OutOfMemoryException)
        {
            return log.Reject(header, GpuResponseType.ErrOutOfMemory, "the host could not allocate the resource");
        }

        resources.Add(new GpuResource2D(id, format, width, height, storage));
        return GpuResponseType.OkNoData;
    }

    public uint AttachBacking(GpuControlHeader header, ResourceAttachBacking command, DescriptorChain chain, IGuestMemory memory)
    {
        uint id = command.ResourceId;
        if (resources.TryGet(id, out GpuBlobResource? blob))
        {
            // As QEMU: a blob's guest pages come with RESOURCE_CREATE_BLOB and stay until unref (the spec's optional
            // swap-out/in through DETACH/ATTACH is not supported); a host-only blob has no guest side at all.
            return log.Reject(header, GpuResponseType.ErrUnspecified, $"blob resource {id} (blob_mem {blob.MemoryType}) takes no ATTACH_BACKING");
        }

        if (!resources.TryGet(id, out GpuResource2D? resource))
        {
            return log.Reject(header, GpuResponseType.ErrInvalidResourceId, $"no resource {id}");
        }

        if (resource.Backing is not null)
        {
            return log.Reject(header, GpuResponseType.ErrUnspecified, $"resource {id} already has backing");
        }

        int entriesOffset = GpuCommandDecoder.CommandSize<ResourceAttachBacking>();
        uint response = backingReader.Read(header, chain, memory, entriesOffset, command.EntryCount, out GuestBacking? backing);
        if (backing is null)
        {
            return response;
        }

        resource.Backing = backing;
        ulong bytes = (ulong)resource.Pixels.Length;
        if (mirror && backing.TryGetContiguousAddress(0, bytes, out ulong address) && memory.TryGetSpan(address, resource.Pixels.Length, out _))
        {
            resource.BeginMirror(address);
        }
        else if (mirror && backing.Length >= bytes && backing.RunsResolve(memory, bytes))
        {
            // Scattered (Linux's shmem pages): frames go out in segments over the runs to sinks that take them.
            resource.BeginMirror(null);
        }

        return GpuResponseType.OkNoData;
    }

    public uint DetachBacking(GpuControlHeader header, ResourceDetachBacking command, IGuestMemory memory)
    {
        uint id = command.ResourceId;
        if (resources.TryGet(id, out GpuBlobResource? _))
        {
            return log.Reject(header, GpuResponseType.ErrUnspecified, $"blob resource {id} keeps its pages until unref");
        }

        if (!resources.TryGet(id, out GpuResource2D? resource))
        {
            return log.Reject(header, GpuResponseType.ErrInvalidResourceId, $"no resource {id}");
        }

        if (resource.Backing is null)
        {
            return log.Reject(header, GpuResponseType.ErrUnspecified, $"resource {id} has no backing");
        }

        // The guest may reuse the pages now: the host copy keeps what they showed.
        resource.EndMirror(memory);
        resource.Backing = null;
        return GpuResponseType.OkNoData;
    }

    public uint TransferToHost(GpuControlHeader header, TransferToHost2D command, IGuestMemory memory)
    {
        (GpuRect rect, ulong offset, uint id) = (command.Rect, command.Offset, command.ResourceId);
        if (resources.TryGet(id, out GpuBlobResource? blob))
        {
            // Linux still sends it for dumb blob buffers (virtio_gpu_update_dumb_bo). As in QEMU it succeeds without
            // copying: scanouts read the blob's own pages at flush time.
            return blob.Backing is null
                ? log.Reject(header, GpuResponseType.ErrUnspecified, $"blob {blob.Id} has no guest pages to transfer from")
                : GpuResponseType.OkNoData;
        }

        if (!resources.TryGet(id, out GpuResource2D? resource))
        {
            return log.Reject(header, GpuResponseType.ErrInvalidResourceId, $"no resource {id}");
        }

        if (!rect.FitsIn(resource.Width, resource.Height))
        {
            return log.Reject(header, GpuResponseType.ErrInvalidParameter, $"transfer rect {rect} is not inside resource {id} ({resource.Width}x{resource.Height})");
        }

        GuestBacking? backing = resource.Backing;
        if (backing is null)
        {
            return log.Reject(header, GpuResponseType.ErrUnspecified, $"resource {id} has no backing");
        }

        if (rect.IsEmpty)
        {
            return GpuResponseType.OkNoData;
        }

        // QEMU's rule (Linux's offset already points at the rect's first pixel): row r comes from
        // offset + r * stride and lands at (y + r) * stride + x * 4. Everything below is < 2^31 (the resource
        // fits a .NET array), so only the guest's 64-bit offset needs care.
        ulong stride = (ulong)resource.Stride;
        ulong rowBytes = (ulong)rect.Width * GpuLayout.BytesPerPixel;
        ulong span = ((rect.Height - 1) * stride) + rowBytes;
        if (offset > backing.Length || backing.Length - offset < span)
        {
            return log.Reject(header, GpuResponseType.ErrInvalidParameter, $"transfer of 0x{span:x} bytes at offset 0x{offset:x} overruns the 0x{backing.Length:x}-byte backing");
        }

        int destination = (int)((rect.Y * stride) + (rect.X * GpuLayout.BytesPerPixel));
        if (resource.Mirrored)
        {
            if (offset == (ulong)destination)
            {
                // The rect's bytes are already where the resource has them: flushes read them from the backing.
                return GpuResponseType.OkNoData;
            }

            // An offset that moves pixels: from here on the resource keeps a host copy.
            resource.EndMirror(memory);
        }

        Span<byte> pixels = resource.Pixels;
        if (rect.X == 0 && rect.Width == resource.Width)
        {
            backing.Read(memory, offset, pixels.Slice(destination, (int)span));
        }
        else
        {
            for (uint row = 0; row < rect.Height; row++)
            {
                backing.Read(memory, offset + (row * stride), pixels.Slice(destination + (int)(row * stride), (int)rowBytes));
            }
        }

        return GpuResponseType.OkNoData;
    }
}

using Vmm.Contracts.Gpu;

namespace Vmm.Plugins.VirtioGpu.Blobs;

/// <summary>
/// The host-visible window (shared-memory region VIRTIO_GPU_SHM_ID_HOST_VISIBLE) MAP_BLOB maps host blobs into:
/// page-aligned, inside the window, never overlapping another mapped blob.
/// </summary>
internal sealed class HostVisibleWindow(ISharedMemoryRegion region)
{
    private static ulong PageSize => (ulong)Environment.SystemPageSize;

    /// <summary>A blob's mapping length: its size rounded up to pages.</summary>
    public static ulong MappingLength(GpuBlobResource blob)
    {
        // size > 0 and below the resource byte limit (a long), so the rounding cannot wrap.
        ulong mask = PageSize - 1;
        return (blob.Size + mask) & ~mask;
    }

    /// <summary>Why <paramref name="blob"/> cannot be mapped at <paramref name="offset"/>; null when it can.</summary>
    public string? CheckPlacement(GpuBlobResource blob, ulong offset, IEnumerable<GpuResource> others)
    {
        IGpuBlob host = blob.HostBlob!;
        ulong length = MappingLength(blob);
        if (offset % PageSize != 0 || offset > region.Size || length > region.Size - offset)
        {
            return $"blob {blob.Id} (0x{length:x} bytes) at 0x{offset:x} is unaligned or outside the 0x{region.Size:x}-byte window";
        }

        if ((ulong)host.FileOffset % PageSize != 0)
        {
            return $"blob {blob.Id} starts at unaligned file offset 0x{host.FileOffset:x}";
        }

        foreach (GpuResource other in others)
        {
            if (other is GpuBlobResource mapped && mapped.OverlapsMapping(offset, length))
            {
                return $"blob {blob.Id} at 0x{offset:x} overlaps blob {mapped.Id} at 0x{mapped.MappedOffset:x}";
            }
        }

        return null;
    }

    /// <summary>Maps the blob's host memory writable at <paramref name="offset"/> (checked by <see cref="CheckPlacement"/>); host failures throw.</summary>
    public void Map(GpuBlobResource blob, ulong offset)
    {
        IGpuBlob host = blob.HostBlob!;
        ulong length = MappingLength(blob);
        region.MapFile(offset, host.File, host.FileOffset, length, writable: true);
        blob.SetMapped(offset, length);
    }

    public void Unmap(GpuBlobResource blob) => region.Unmap(blob.MappedOffset, blob.MappedLength);
}

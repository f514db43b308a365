using Vmm.Contracts.Gpu;

namespace Vmm.Plugins.VirtioGpu.Blobs;

/// <summary>
/// A blob resource (RESOURCE_CREATE_BLOB): guest pages named at creation, host memory a context handed out, or
/// both. Its bytes are read where they live; nothing is copied into the device at creation.
/// </summary>
internal sealed class GpuBlobResource : GpuResource, IDisposable
{
    public GpuBlobResource(uint id, uint memoryType, uint flags, ulong size, GuestBacking? backing, IGpuBlob? hostBlob)
        : base(id)
    {
        MemoryType = memoryType;
        Flags = flags;
        Size = size;
        Backing = backing;
        HostBlob = hostBlob;
    }

    /// <summary>VIRTIO_GPU_BLOB_MEM_*.</summary>
    public uint MemoryType { get; }

    /// <summary>VIRTIO_GPU_BLOB_FLAG_*.</summary>
    public uint Flags { get; }

    /// <summary>The size the guest asked for; the backing and the host blob are at least this long.</summary>
    public ulong Size { get; }

    /// <summary>The guest pages (GUEST and HOST3D_GUEST blobs).</summary>
    public GuestBacking? Backing { get; }

    /// <summary>The host memory (HOST3D and HOST3D_GUEST blobs); what MAP_BLOB maps and what scanouts read.</summary>
    public IGpuBlob? HostBlob { get; }

    /// <summary>Whether MAP_BLOB may map it: host memory the guest created as mappable.</summary>
    public bool IsMappable => HostBlob is not null && (Flags & GpuLayout.BlobFlagMappable) != 0;

    /// <summary>Where MAP_BLOB put it in the host-visible window.</summary>
    public ulong MappedOffset { get; private set; }

    /// <summary>The mapped length (page-rounded); 0 while not mapped.</summary>
    public ulong MappedLength { get; private set; }

    public bool IsMapped => MappedLength != 0;

    public override long ChargedBytes => (long)Size;

    public void SetMapped(ulong offset, ulong length)
    {
        MappedOffset = offset;
        MappedLength = length;
    }

    public void ClearMapped()
    {
        MappedOffset = 0;
        MappedLength = 0;
    }

    /// <summary>Whether [offset, offset + length) of the window overlaps this blob's mapping.</summary>
    public bool OverlapsMapping(ulong offset, ulong length)
        => IsMapped && offset < MappedOffset + MappedLength && MappedOffset < offset + length;

    /// <summary>
    /// A span straight over the blob's bytes [offset, offset + length) when they are one contiguous run of guest
    /// memory (no copy needed to show them); the caller checked the range against <see cref="Size"/>.
    /// </summary>
    public bool TryGetContiguous(IGuestMemory memory, ulong offset, int length, out Span<byte> span)
    {
        if (HostBlob is null && Backing is not null && Backing.TryGetContiguousAddress(offset, (ulong)length, out ulong address))
        {
            return memory.TryGetSpan(address, length, out span);
        }

        span = default;
        return false;
    }

    /// <summary>Copies blob bytes from <paramref name="offset"/>; the caller checked the range against <see cref="Size"/>.</summary>
    public void Read(IGuestMemory memory, ulong offset, Span<byte> destination)
    {
        if (HostBlob is not null)
        {
            long position = HostBlob.FileOffset + (long)offset;
            while (!destination.IsEmpty)
            {
                int n = RandomAccess.Read(HostBlob.File, destination, position);
                if (n <= 0)
                {
                    // A file shorter than it claimed reads as zeros, never as stale bytes.
                    destination.Clear();
                    return;
                }

                destination = destination[n..];
                position += n;
            }

            return;
        }

        Backing!.Read(memory, offset, destination);
    }

    /// <summary>Copies bytes into the blob at <paramref name="offset"/>; the caller checked the range.</summary>
    public void Write(IGuestMemory memory, ulong offset, ReadOnlySpan<byte> source)
    {
        if (HostBlob is not null)
        {
            RandomAccess.Write(HostBlob.File, source, HostBlob.FileOffset + (long)offset);
            return;
        }

        Backing!.Write(memory, offset, source);
    }

    public void Dispose() => HostBlob?.Dispose();
}

using Vmm.Contracts.Gpu;

namespace Vmm.Plugins.VirtioGpu.Resources;

/// <summary>A resource as a context sees it (<see cref="IGpuResource"/>): reads and writes go to its guest backing.</summary>
internal sealed class GpuResourceView(GpuResource2D resource, IGuestMemory memory) : IGpuResource
{
    public uint Id => resource.Id;

    public ulong Size => resource.Backing?.Length ?? 0;

    public int Read(ulong offset, Span<byte> destination)
    {
        GuestBacking? backing = resource.Backing;
        if (backing is null || offset >= backing.Length)
        {
            return 0;
        }

        int n = (int)Math.Min((ulong)destination.Length, backing.Length - offset);
        backing.Read(memory, offset, destination[..n]);
        return n;
    }

    public int Write(ulong offset, ReadOnlySpan<byte> source)
    {
        GuestBacking? backing = resource.Backing;
        if (backing is null || offset >= backing.Length)
        {
            return 0;
        }

        int n = (int)Math.Min((ulong)source.Length, backing.Length - offset);
        backing.Write(memory, offset, source[..n]);
        return n;
    }
}

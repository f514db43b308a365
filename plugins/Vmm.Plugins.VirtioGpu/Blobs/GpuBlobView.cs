using Vmm.Contracts.Gpu;

namespace Vmm.Plugins.VirtioGpu.Blobs;

/// <summary>A blob as a context sees it (<see cref="IGpuResource"/>): reads and writes go where its bytes live.</summary>
internal sealed class GpuBlobView(GpuBlobResource blob, IGuestMemory memory) : IGpuResource
{
    public uint Id => blob.Id;

    public ulong Size => blob.Size;

    public int Read(ulong offset, Span<byte> destination)
    {
        if (offset >= blob.Size)
        {
            return 0;
        }

        int n = (int)Math.Min((ulong)destination.Length, blob.Size - offset);
        blob.Read(memory, offset, destination[..n]);
        return n;
    }

    public int Write(ulong offset, ReadOnlySpan<byte> source)
    {
        if (offset >= blob.Size)
        {
            return 0;
        }

        int n = (int)Math.Min((ulong)source.Length, blob.Size - offset);
        blob.Write(memory, offset, source[..n]);
        return n;
    }
}

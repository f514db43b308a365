using System.Runtime.InteropServices;

namespace Vmm.Plugins.VirtioGpu.Resources;

/// <summary>
/// Reads the <see cref="GpuMemEntry"/> list that follows ATTACH_BACKING and RESOURCE_CREATE_BLOB, checking each
/// entry against guest memory; the entries may span descriptors.
/// </summary>
internal sealed class BackingReader(int maxEntries, CommandLog log)
{
    private const int ChunkEntries = 256;

    /// <summary>
    /// Reads <paramref name="count"/> entries from <paramref name="entriesOffset"/> of the request; null with the
    /// error response when they are too many, missing or outside guest memory.
    /// </summary>
    public uint Read(GpuControlHeader header, DescriptorChain chain, IGuestMemory memory, int entriesOffset, uint count, out GuestBacking? backing)
    {
        backing = null;
        if (count == 0 || count > maxEntries)
        {
            return log.Reject(header, GpuResponseType.ErrUnspecified, $"{count} backing entries (1 to {maxEntries} allowed)");
        }

        long needed = entriesOffset + ((long)count * GpuMemEntry.Size);
        if (chain.ReadableLength < needed)
        {
            return log.Reject(header, GpuResponseType.ErrUnspecified, $"{count} backing entries need {needed} bytes, the request has {chain.ReadableLength}");
        }

        var runs = new GuestBuffer[count];
        Span<GpuMemEntry> chunk = stackalloc GpuMemEntry[ChunkEntries];
        for (int first = 0; first < count; first += ChunkEntries)
        {
            Span<GpuMemEntry> entries = chunk[..(int)Math.Min(ChunkEntries, count - first)];
            chain.Read(entriesOffset + ((long)first * GpuMemEntry.Size), MemoryMarshal.AsBytes(entries));
            for (int i = 0; i < entries.Length; i++)
            {
                (ulong address, uint length) = (entries[i].Address, entries[i].Length);
                if (!memory.IsValidRange(address, length))
                {
                    return log.Reject(header, GpuResponseType.ErrUnspecified, $"backing entry {first + i} 0x{address:x}+0x{length:x} is outside guest memory");
                }

                runs[first + i] = new GuestBuffer(address, length);
            }
        }

        backing = new GuestBacking(runs);
        return GpuResponseType.OkNoData;
    }
}

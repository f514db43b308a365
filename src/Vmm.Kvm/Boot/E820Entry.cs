namespace Vmm.Kvm.Boot;

/// <summary>The e820 range types the loaders report.</summary>
public enum E820Type : uint
{
    /// <summary>Usable RAM.</summary>
    Ram = 1,

    /// <summary>Reserved (MP table, legacy hole).</summary>
    Reserved = 2,
}

/// <summary>One range of the guest's physical memory map (e820 and PVH memory map).</summary>
/// <param name="Address">Start.</param>
/// <param name="Size">Length in bytes.</param>
/// <param name="Type">What the range is.</param>
public readonly record struct E820Entry(ulong Address, ulong Size, E820Type Type)
{
    /// <summary>The guest memory map for <paramref name="memoryBytes"/> of RAM laid out by <see cref="BootLayout.RamRegions"/>.</summary>
    public static IReadOnlyList<E820Entry> ForMemory(ulong memoryBytes)
    {
        if (memoryBytes < BootLayout.HighMemoryStart * 2)
        {
            throw new BootImageException($"Guest memory of {memoryBytes} bytes is too small to boot a kernel; at least 2 MiB is needed.");
        }

        List<E820Entry> entries =
        [
            new(0, BootLayout.BaseMemoryEnd, E820Type.Ram),
            new(BootLayout.BaseMemoryEnd, BootLayout.HighMemoryStart - BootLayout.BaseMemoryEnd, E820Type.Reserved),
        ];
        foreach ((ulong address, ulong size) in BootLayout.RamRegions(memoryBytes))
        {
            ulong start = Math.Max(address, BootLayout.HighMemoryStart);
            if (address + size > start)
            {
                entries.Add(new E820Entry(start, address + size - start, E820Type.Ram));
            }
        }

        return entries;
    }
}

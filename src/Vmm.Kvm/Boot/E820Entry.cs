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
    /// <remarks>An array: a list of structs is generic code the start-up path would JIT-compile.</remarks>
    public static E820Entry[] ForMemory(ulong memoryBytes)
    {
        if (memoryBytes < BootLayout.HighMemoryStart * 2)
        {
            throw new BootImageException($"Guest memory of {memoryBytes} bytes is too small to boot a kernel; at least 2 MiB is needed.");
        }

        (ulong Address, ulong Size)[] ram = BootLayout.RamRegions(memoryBytes);
        var entries = new E820Entry[2 + ram.Length];
        entries[0] = new(0, BootLayout.BaseMemoryEnd, E820Type.Ram);
        entries[1] = new(BootLayout.BaseMemoryEnd, BootLayout.HighMemoryStart - BootLayout.BaseMemoryEnd, E820Type.Reserved);
        int count = 2;
        foreach ((ulong address, ulong size) in ram)
        {
            ulong start = Math.Max(address, BootLayout.HighMemoryStart);
            if (address + size > start)
            {
                entries[count++] = new E820Entry(start, address + size - start, E820Type.Ram);
            }
        }

        if (count < entries.Length)
        {
            var trimmed = new E820Entry[count];
            Array.Copy(entries, trimmed, count);
            entries = trimmed;
        }

        return entries;
    }
}

namespace Vmm.Contracts.Memory;

/// <summary>One contiguous range of guest physical memory.</summary>
/// <param name="GuestAddress">The first guest physical address of the region.</param>
/// <param name="Size">The size in bytes.</param>
public readonly record struct GuestMemoryRegionInfo(ulong GuestAddress, ulong Size)
{
    /// <summary>The address one past the region's last byte.</summary>
    public ulong End => GuestAddress + Size;

    /// <summary>Whether <paramref name="address"/> lies in the region.</summary>
    public bool Contains(ulong address) => address >= GuestAddress && address - GuestAddress < Size;
}

namespace Vmm.Core.Memory;

/// <summary>A region of guest RAM to create: where it sits in guest physical space and how big it is.</summary>
/// <param name="GuestAddress">The first guest physical address; page aligned.</param>
/// <param name="Size">The size in bytes; page aligned, not zero.</param>
public readonly record struct GuestMemoryRegionSpec(ulong GuestAddress, ulong Size);

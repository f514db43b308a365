using Vmm.Contracts.Pci;

namespace Vmm.Core.Pci;

/// <summary>A BAR a function declares: its slot, size and decoding.</summary>
/// <param name="Index">BAR slot 0 to 5; a 64-bit BAR also takes <c>Index + 1</c>.</param>
/// <param name="Size">Size in bytes: a power of two, at least 16 for memory and 4 for I/O.</param>
/// <param name="Kind">Memory32, Memory64 or IO.</param>
/// <param name="Prefetchable">Whether the memory is prefetchable.</param>
/// <param name="Emulated">
/// True when guest accesses go through the bus to <see cref="IPciFunction.ReadBar"/>; false when the platform maps
/// memory there itself (a backing file, a shared-memory window) and follows it with <see cref="PciRoot.BarMoved"/>.
/// </param>
public sealed record PciBarDefinition(int Index, ulong Size, PciBarKind Kind, bool Prefetchable = false, bool Emulated = true)
{
    /// <summary>Whether the BAR takes two slots.</summary>
    public bool Is64Bit => Kind == PciBarKind.Memory64;

    /// <summary>The low flag bits a BAR register reads back (I/O bit, type, prefetchable).</summary>
    public uint Flags => Kind switch
    {
        PciBarKind.IO => 0x1u,
        PciBarKind.Memory64 => 0x4u | (Prefetchable ? 0x8u : 0u),
        _ => Prefetchable ? 0x8u : 0u,
    };
}

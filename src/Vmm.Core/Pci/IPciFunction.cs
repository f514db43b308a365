namespace Vmm.Core.Pci;

/// <summary>
/// What sits in a PCI slot: a configuration space and the handlers for its emulated BARs. The root serialises
/// configuration accesses; BAR accesses come from vCPU threads concurrently.
/// </summary>
public interface IPciFunction
{
    /// <summary>The function's configuration space.</summary>
    PciConfigSpace ConfigSpace { get; }

    /// <summary>A guest read of an emulated BAR; <paramref name="offset"/> + length is within the BAR.</summary>
    void ReadBar(int barIndex, ulong offset, Span<byte> data);

    /// <summary>A guest write of an emulated BAR; <paramref name="offset"/> + length is within the BAR.</summary>
    void WriteBar(int barIndex, ulong offset, ReadOnlySpan<byte> data);
}

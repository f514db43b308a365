namespace Vmm.Core.Pci;

/// <summary>
/// The guest physical (and port) ranges the VMM places BARs in, as firmware would. Ends are exclusive.
/// </summary>
/// <param name="Mmio32Start">Start of the 32-bit MMIO window.</param>
/// <param name="Mmio32End">End of the 32-bit MMIO window.</param>
/// <param name="Mmio64Start">Start of the 64-bit MMIO window (above 4 GiB).</param>
/// <param name="Mmio64End">End of the 64-bit MMIO window.</param>
/// <param name="IoStart">Start of the I/O port window.</param>
/// <param name="IoEnd">End of the I/O port window.</param>
public sealed record PciWindows(ulong Mmio32Start, ulong Mmio32End, ulong Mmio64Start, ulong Mmio64End, ulong IoStart, ulong IoEnd)
{
    /// <summary>A layout that suits a small VM: 32-bit MMIO at 0xC000_0000..0xE000_0000, 64-bit at 64 GiB, I/O at 0x1000.</summary>
    public static PciWindows Default { get; } = new(0xC000_0000, 0xE000_0000, 0x10_0000_0000, 0x20_0000_0000, 0x1000, 0x1_0000);
}

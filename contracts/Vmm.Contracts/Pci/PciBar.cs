using Microsoft.Win32.SafeHandles;

namespace Vmm.Contracts.Pci;

/// <summary>The kind of address space a BAR decodes.</summary>
public enum PciBarKind
{
    /// <summary>32-bit memory BAR.</summary>
    Memory32,

    /// <summary>64-bit memory BAR; takes two BAR slots.</summary>
    Memory64,

    /// <summary>I/O port BAR.</summary>
    IO,
}

/// <summary>
/// One BAR a PCI device exposes. The platform places it (naturally aligned, power-of-two size) and either routes
/// accesses to <see cref="IPciDevice.ReadBar"/>/<see cref="IPciDevice.WriteBar"/> or, when
/// <see cref="BackingFile"/> is set, maps the file there so guest accesses never exit (IVSHMEM's shared memory).
/// </summary>
/// <param name="Index">BAR slot 0 to 5.</param>
/// <param name="Size">Size in bytes; a power of two.</param>
/// <param name="Kind">Memory32, Memory64 or IO.</param>
/// <param name="Prefetchable">Whether the memory is prefetchable.</param>
/// <param name="BackingFile">A host file mapped shared at the BAR, or null for an emulated BAR.</param>
/// <param name="BackingFileOffset">Where in <paramref name="BackingFile"/> the BAR starts.</param>
public sealed record PciBar(int Index, ulong Size, PciBarKind Kind, bool Prefetchable = false, SafeFileHandle? BackingFile = null, long BackingFileOffset = 0);

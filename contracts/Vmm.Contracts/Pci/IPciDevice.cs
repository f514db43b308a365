using Vmm.Contracts.Devices;

namespace Vmm.Contracts.Pci;

/// <summary>
/// A PCI device that is not virtio (IVSHMEM is the first). The PCI root builds its configuration header from
/// <see cref="Identity"/> and <see cref="Bars"/>, adds MSI-X when <see cref="MsixVectorCount"/> is not zero, and
/// routes BAR accesses here.
/// </summary>
public interface IPciDevice : IDevice
{
    /// <summary>Vendor, device, class and subsystem ids.</summary>
    PciDeviceIdentity Identity { get; }

    /// <summary>The BARs the device needs.</summary>
    IReadOnlyList<PciBar> Bars { get; }

    /// <summary>The number of MSI-X vectors; 0 for none. The table and PBA live in a BAR the root adds.</summary>
    int MsixVectorCount { get; }

    /// <summary>Reads an emulated BAR; <paramref name="offset"/> + length is within the BAR.</summary>
    void ReadBar(int barIndex, ulong offset, Span<byte> data);

    /// <summary>Writes an emulated BAR; <paramref name="offset"/> + length is within the BAR.</summary>
    void WriteBar(int barIndex, ulong offset, ReadOnlySpan<byte> data);

    /// <summary>The device is attached and may raise interrupts through <paramref name="context"/>.</summary>
    void Activate(IPciDeviceContext context);

    /// <summary>The device was reset (function-level reset, VM reboot).</summary>
    void Reset();
}

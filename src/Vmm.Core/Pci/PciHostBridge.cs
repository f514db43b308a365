using Vmm.Contracts.Pci;

namespace Vmm.Core.Pci;

/// <summary>
/// The host bridge at 00:00.0 (vendor 0x8086, device 0x0D57, class 06/00): without it Linux's
/// <c>pci_sanity_check</c> rejects mechanism #1 when there is no ACPI.
/// </summary>
public sealed class PciHostBridge : IPciFunction
{
    /// <summary>The identity Firecracker also uses.</summary>
    public static readonly PciDeviceIdentity BridgeIdentity = new(0x8086, 0x0D57, 0x06, 0x00, 0x00, 0x00, 0x0000, 0x0000);

    /// <inheritdoc />
    public PciConfigSpace ConfigSpace { get; } = new(BridgeIdentity);

    /// <inheritdoc />
    public void ReadBar(int barIndex, ulong offset, Span<byte> data) => data.Fill(0xFF);

    /// <inheritdoc />
    public void WriteBar(int barIndex, ulong offset, ReadOnlySpan<byte> data)
    {
    }
}

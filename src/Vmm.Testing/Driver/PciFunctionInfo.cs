using Vmm.Contracts.Pci;

namespace Vmm.Testing.Driver;

/// <summary>A BAR as enumeration found it.</summary>
/// <param name="Index">The BAR slot.</param>
/// <param name="Address">Its address (after assignment, if the enumerator assigned).</param>
/// <param name="Size">Its size, from sizing.</param>
/// <param name="Kind">Memory32, Memory64 or IO.</param>
/// <param name="Prefetchable">The prefetchable bit.</param>
public readonly record struct PciBarInfo(int Index, ulong Address, ulong Size, PciBarKind Kind, bool Prefetchable);

/// <summary>One capability found walking the list.</summary>
/// <param name="Offset">Its offset in configuration space.</param>
/// <param name="Id">Its capability id.</param>
public readonly record struct PciCapabilityInfo(int Offset, byte Id);

/// <summary>A function found on bus 0.</summary>
/// <param name="Device">The slot number.</param>
/// <param name="VendorId">Vendor id.</param>
/// <param name="DeviceId">Device id.</param>
/// <param name="ClassCode">Class code (base class in bits 23:16, subclass 15:8, prog-if 7:0).</param>
/// <param name="Revision">Revision id.</param>
/// <param name="Bars">The implemented BARs.</param>
/// <param name="Capabilities">The capability list, in order.</param>
public sealed record PciFunctionInfo(
    int Device,
    ushort VendorId,
    ushort DeviceId,
    uint ClassCode,
    byte Revision,
    IReadOnlyList<PciBarInfo> Bars,
    IReadOnlyList<PciCapabilityInfo> Capabilities)
{
    /// <summary>The BAR in slot <paramref name="index"/>.</summary>
    public PciBarInfo GetBar(int index)
    {
        foreach (PciBarInfo bar in Bars)
        {
            if (bar.Index == index)
            {
                return bar;
            }
        }

        throw new InvalidOperationException($"PCI device {Device:x2}.0 has no BAR {index}.");
    }
}

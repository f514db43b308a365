using System.Buffers.Binary;
using Vmm.Core.Pci;

namespace Vmm.Core.Virtio.Pci;

/// <summary>
/// VIRTIO_PCI_CAP_PCI_CFG (virtio_pci_cfg_cap, 20 bytes): the driver writes bar, offset and length, then reads or
/// writes pci_cfg_data to reach that BAR through configuration space alone.
/// </summary>
internal sealed class VirtioPciConfigAccessCapability(IPciFunction function) : PciCapability
{
    private const int DataOffset = 16;

    public override byte Id => PciIds.CapabilityVendorSpecific;

    public override int Length => 20;

    protected internal override void Initialize(Span<byte> bytes, Span<byte> writeMask)
    {
        bytes[2] = 20;
        bytes[3] = (byte)VirtioPciCapabilityType.PciConfig;
        writeMask[4] = 0xFF;
        writeMask.Slice(8, 12).Fill(0xFF);
    }

    protected internal override void OnReading(Span<byte> bytes, int offset, int length)
    {
        if (offset + length > DataOffset && TryGetWindow(bytes, out int bar, out uint barOffset, out int accessLength))
        {
            bytes.Slice(DataOffset, 4).Clear();
            function.ReadBar(bar, barOffset, bytes.Slice(DataOffset, accessLength));
        }
    }

    protected internal override void OnWritten(Span<byte> bytes, int offset, int length)
    {
        if (offset + length > DataOffset && TryGetWindow(bytes, out int bar, out uint barOffset, out int accessLength))
        {
            function.WriteBar(bar, barOffset, bytes.Slice(DataOffset, accessLength));
        }
    }

    private static bool TryGetWindow(Span<byte> bytes, out int bar, out uint barOffset, out int accessLength)
    {
        bar = bytes[4];
        barOffset = BinaryPrimitives.ReadUInt32LittleEndian(bytes[8..]);
        uint length = BinaryPrimitives.ReadUInt32LittleEndian(bytes[12..]);
        accessLength = (int)length;

        // Only the registers BAR is emulated; the access must be 1, 2 or 4 bytes, naturally aligned.
        return bar == VirtioPciLayout.RegistersBar && length is 1 or 2 or 4 && barOffset % length == 0
            && barOffset + length <= VirtioPciLayout.RegistersBarSize;
    }
}

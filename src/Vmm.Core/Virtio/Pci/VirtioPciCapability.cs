using System.Buffers.Binary;
using Vmm.Core.Pci;

namespace Vmm.Core.Virtio.Pci;

/// <summary>
/// A read-only virtio vendor capability: virtio_pci_cap (16 bytes), virtio_pci_notify_cap (20 bytes, with the
/// multiplier) or virtio_pci_cap64 (24 bytes, with the high halves of offset and length).
/// </summary>
public sealed class VirtioPciCapability : PciCapability
{
    private readonly int _length;
    private readonly uint? _notifyOffMultiplier;

    private VirtioPciCapability(VirtioPciCapabilityType type, int bar, byte id, ulong offset, ulong length, int capLength, uint? notifyOffMultiplier)
    {
        Type = type;
        Bar = bar;
        RegionId = id;
        RegionOffset = offset;
        RegionLength = length;
        _length = capLength;
        _notifyOffMultiplier = notifyOffMultiplier;
    }

    /// <inheritdoc />
    public override byte Id => PciIds.CapabilityVendorSpecific;

    /// <inheritdoc />
    public override int Length => _length;

    /// <summary>cfg_type.</summary>
    public VirtioPciCapabilityType Type { get; }

    /// <summary>The BAR the structure lives in.</summary>
    public int Bar { get; }

    /// <summary>The id field (the shared-memory region id).</summary>
    public byte RegionId { get; }

    /// <summary>Offset within the BAR.</summary>
    public ulong RegionOffset { get; }

    /// <summary>Length of the structure.</summary>
    public ulong RegionLength { get; }

    /// <summary>A 16-byte virtio_pci_cap.</summary>
    public static VirtioPciCapability Create(VirtioPciCapabilityType type, int bar, ulong offset, uint length)
        => new(type, bar, 0, offset, length, 16, null);

    /// <summary>The 20-byte notify capability.</summary>
    public static VirtioPciCapability CreateNotify(int bar, ulong offset, uint length, uint multiplier)
        => new(VirtioPciCapabilityType.NotifyConfig, bar, 0, offset, length, 20, multiplier);

    /// <summary>A 24-byte virtio_pci_cap64 for shared-memory region <paramref name="id"/>.</summary>
    public static VirtioPciCapability CreateSharedMemory(int bar, byte id, ulong offset, ulong length)
        => new(VirtioPciCapabilityType.SharedMemoryConfig, bar, id, offset, length, 24, null);

    /// <inheritdoc />
    protected internal override void Initialize(Span<byte> bytes, Span<byte> writeMask)
    {
        bytes[2] = (byte)_length;
        bytes[3] = (byte)Type;
        bytes[4] = (byte)Bar;
        bytes[5] = RegionId;
        BinaryPrimitives.WriteUInt32LittleEndian(bytes[8..], (uint)RegionOffset);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes[12..], (uint)RegionLength);
        if (_notifyOffMultiplier is uint multiplier)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(bytes[16..], multiplier);
        }
        else if (_length == 24)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(bytes[16..], (uint)(RegionOffset >> 32));
            BinaryPrimitives.WriteUInt32LittleEndian(bytes[20..], (uint)(RegionLength >> 32));
        }
    }
}

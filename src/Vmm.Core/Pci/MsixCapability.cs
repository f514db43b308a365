using System.Buffers.Binary;

namespace Vmm.Core.Pci;

/// <summary>
/// The MSI-X capability (id 0x11, 12 bytes): message control (table size - 1, function mask, enable), and where
/// the table and pending-bit array live (BAR index in the low 3 bits, offset above).
/// </summary>
public sealed class MsixCapability : PciCapability
{
    private const ushort EnableBit = 1 << 15;
    private const ushort FunctionMaskBit = 1 << 14;

    private readonly MsixTable _table;
    private readonly int _barIndex;
    private readonly uint _tableOffset;
    private readonly uint _pendingBitArrayOffset;

    /// <summary>Creates the capability for <paramref name="table"/> living in BAR <paramref name="barIndex"/>.</summary>
    public MsixCapability(MsixTable table, int barIndex, uint tableOffset, uint pendingBitArrayOffset)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)barIndex, 5u, nameof(barIndex));
        if ((tableOffset & 7) != 0 || (pendingBitArrayOffset & 7) != 0)
        {
            throw new ArgumentException("The table and PBA offsets must be 8-byte aligned.");
        }

        _table = table;
        _barIndex = barIndex;
        _tableOffset = tableOffset;
        _pendingBitArrayOffset = pendingBitArrayOffset;
    }

    /// <inheritdoc />
    public override byte Id => PciIds.CapabilityMsix;

    /// <inheritdoc />
    public override int Length => 12;

    /// <summary>The table this capability controls.</summary>
    public MsixTable Table => _table;

    /// <inheritdoc />
    protected internal override void Initialize(Span<byte> bytes, Span<byte> writeMask)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(bytes[2..], (ushort)(_table.VectorCount - 1));
        BinaryPrimitives.WriteUInt32LittleEndian(bytes[4..], _tableOffset | (uint)_barIndex);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes[8..], _pendingBitArrayOffset | (uint)_barIndex);
        BinaryPrimitives.WriteUInt16LittleEndian(writeMask[2..], EnableBit | FunctionMaskBit);
    }

    /// <inheritdoc />
    protected internal override void OnWritten(Span<byte> bytes, int offset, int length)
    {
        ushort control = BinaryPrimitives.ReadUInt16LittleEndian(bytes[2..]);
        _table.SetControl((control & EnableBit) != 0, (control & FunctionMaskBit) != 0);
    }
}

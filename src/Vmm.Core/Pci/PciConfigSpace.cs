using System.Buffers.Binary;
using Vmm.Contracts.Pci;

namespace Vmm.Core.Pci;

/// <summary>
/// A type-0 PCI configuration header with BARs and a capability list, as the guest sees it through mechanism #1
/// or ECAM. Read-only fields stay read-only; BAR registers follow the sizing protocol Linux uses (write all-ones,
/// read back <c>~(size - 1) | flags</c>, restore). Not thread-safe: <see cref="PciRoot"/> serialises accesses.
/// </summary>
public sealed class PciConfigSpace
{
    private const int FirstCapabilityOffset = 0x40;

    private readonly byte[] _data = new byte[PciIds.ConfigSpaceSize];
    private readonly byte[] _writeMask = new byte[PciIds.ConfigSpaceSize];
    private readonly PciBarDefinition?[] _bars = new PciBarDefinition?[6];
    private readonly bool[] _barSizing = new bool[6];
    private readonly List<PciCapability> _capabilities = [];
    private int _nextCapabilityOffset = FirstCapabilityOffset;

    /// <summary>Creates a header with <paramref name="identity"/>, every writable bit cleared.</summary>
    public PciConfigSpace(PciDeviceIdentity identity)
    {
        Identity = identity;
        Span<byte> data = _data;
        BinaryPrimitives.WriteUInt16LittleEndian(data[PciIds.VendorIdOffset..], identity.VendorId);
        BinaryPrimitives.WriteUInt16LittleEndian(data[PciIds.DeviceIdOffset..], identity.DeviceId);
        data[PciIds.RevisionOffset] = identity.Revision;
        data[PciIds.ClassOffset] = identity.ProgrammingInterface;
        data[PciIds.ClassOffset + 1] = identity.Subclass;
        data[PciIds.ClassOffset + 2] = identity.ClassCode;
        data[PciIds.HeaderTypeOffset] = 0;
        BinaryPrimitives.WriteUInt16LittleEndian(data[PciIds.SubsystemVendorIdOffset..], identity.SubsystemVendorId);
        BinaryPrimitives.WriteUInt16LittleEndian(data[PciIds.SubsystemIdOffset..], identity.SubsystemId);

        // The guest may write: COMMAND IO/MEM/bus master/INTx disable, cache line size, latency timer, interrupt line.
        BinaryPrimitives.WriteUInt16LittleEndian(
            _writeMask.AsSpan(PciIds.CommandOffset),
            PciIds.CommandIoSpace | PciIds.CommandMemorySpace | PciIds.CommandBusMaster | PciIds.CommandInterruptDisable);
        _writeMask[0x0C] = 0xFF;
        _writeMask[0x0D] = 0xFF;
        _writeMask[PciIds.InterruptLineOffset] = 0xFF;
    }

    /// <summary>Raised after a guest write changed the command register or a BAR register.</summary>
    internal event Action? MappingChanged;

    /// <summary>The identity the header was built from.</summary>
    public PciDeviceIdentity Identity { get; }

    /// <summary>The command register.</summary>
    public ushort Command => BinaryPrimitives.ReadUInt16LittleEndian(_data.AsSpan(PciIds.CommandOffset));

    /// <summary>Whether I/O BARs decode.</summary>
    public bool IoEnabled => (Command & PciIds.CommandIoSpace) != 0;

    /// <summary>Whether memory BARs decode.</summary>
    public bool MemoryEnabled => (Command & PciIds.CommandMemorySpace) != 0;

    /// <summary>Whether the function may do DMA and send MSIs.</summary>
    public bool BusMasterEnabled => (Command & PciIds.CommandBusMaster) != 0;

    /// <summary>The capabilities, in list order.</summary>
    public IReadOnlyList<PciCapability> Capabilities => _capabilities;

    /// <summary>The declared BARs (null where a slot is empty or the upper half of a 64-bit BAR).</summary>
    public IReadOnlyList<PciBarDefinition?> Bars => _bars;

    /// <summary>Declares a BAR; its address reads 0 until placed.</summary>
    public void AddBar(PciBarDefinition bar)
    {
        ArgumentNullException.ThrowIfNull(bar);
        int slots = bar.Is64Bit ? 2 : 1;
        if (bar.Index < 0 || bar.Index + slots > 6)
        {
            throw new ArgumentOutOfRangeException(nameof(bar), $"BAR index {bar.Index} does not fit.");
        }

        ulong minimum = bar.Kind == PciBarKind.IO ? 4UL : 16UL;
        if (bar.Size < minimum || !ulong.IsPow2(bar.Size) || (bar.Kind != PciBarKind.Memory64 && bar.Size > 1UL << 31))
        {
            throw new ArgumentOutOfRangeException(nameof(bar), $"BAR {bar.Index}: size 0x{bar.Size:x} is not a valid power of two for {bar.Kind}.");
        }

        if (_bars[bar.Index] is not null || (bar.Is64Bit && _bars[bar.Index + 1] is not null) || IsUpperHalf(bar.Index) || (bar.Is64Bit && IsUpperHalf(bar.Index + 1)))
        {
            throw new InvalidOperationException($"BAR slot {bar.Index} is taken.");
        }

        _bars[bar.Index] = bar;
        WriteDwordRaw(PciIds.Bar0Offset + (4 * bar.Index), bar.Flags);
    }

    /// <summary>Appends <paramref name="capability"/> to the list (4-byte aligned, below 0x100). Returns its offset.</summary>
    public int AddCapability(PciCapability capability)
    {
        ArgumentNullException.ThrowIfNull(capability);
        int offset = _nextCapabilityOffset;
        if (capability.Length < 2 || offset + capability.Length > PciIds.ConfigSpaceSize)
        {
            throw new InvalidOperationException($"Capability 0x{capability.Id:x2} does not fit below 0x100.");
        }

        _data[offset] = capability.Id;
        _data[offset + 1] = 0;
        capability.Offset = offset;
        capability.Initialize(_data.AsSpan(offset, capability.Length), _writeMask.AsSpan(offset, capability.Length));
        _writeMask[offset] = 0;
        _writeMask[offset + 1] = 0;

        if (_capabilities.Count == 0)
        {
            _data[PciIds.CapabilitiesPointerOffset] = (byte)offset;
            ushort status = BinaryPrimitives.ReadUInt16LittleEndian(_data.AsSpan(PciIds.StatusOffset));
            BinaryPrimitives.WriteUInt16LittleEndian(_data.AsSpan(PciIds.StatusOffset), (ushort)(status | PciIds.StatusCapabilityList));
        }
        else
        {
            _data[_capabilities[^1].Offset + 1] = (byte)offset;
        }

        _capabilities.Add(capability);
        _nextCapabilityOffset = (offset + capability.Length + 3) & ~3;
        return offset;
    }

    /// <summary>Reads <paramref name="data"/>.Length bytes at <paramref name="offset"/>; bytes beyond 0x100 (ECAM) read 0.</summary>
    public void Read(int offset, Span<byte> data)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        data.Clear();
        if (offset >= PciIds.ConfigSpaceSize)
        {
            return;
        }

        int length = Math.Min(data.Length, PciIds.ConfigSpaceSize - offset);
        foreach (PciCapability capability in _capabilities)
        {
            if (Overlaps(capability, offset, length))
            {
                int start = Math.Max(offset, capability.Offset);
                int end = Math.Min(offset + length, capability.Offset + capability.Length);
                capability.OnReading(_data.AsSpan(capability.Offset, capability.Length), start - capability.Offset, end - start);
            }
        }

        _data.AsSpan(offset, length).CopyTo(data);
    }

    /// <summary>Reads a dword register (<paramref name="offset"/> 4-byte aligned).</summary>
    public uint ReadDword(int offset)
    {
        Span<byte> buffer = stackalloc byte[4];
        Read(offset, buffer);
        return BinaryPrimitives.ReadUInt32LittleEndian(buffer);
    }

    /// <summary>A guest write: only writable bits change; BAR and capability semantics apply. Beyond 0x100 is ignored.</summary>
    public void Write(int offset, ReadOnlySpan<byte> data)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (offset >= PciIds.ConfigSpaceSize)
        {
            return;
        }

        int length = Math.Min(data.Length, PciIds.ConfigSpaceSize - offset);
        bool mappingChanged = false;
        for (int i = 0; i < length; i++)
        {
            int at = offset + i;
            if (at >= PciIds.Bar0Offset && at < PciIds.Bar0Offset + 24)
            {
                continue;
            }

            byte mask = _writeMask[at];
            byte old = _data[at];
            _data[at] = (byte)((old & ~mask) | (data[i] & mask));
            if (at is PciIds.CommandOffset or PciIds.CommandOffset + 1 && old != _data[at])
            {
                mappingChanged = true;
            }
        }

        Span<byte> merged = stackalloc byte[4];
        for (int barSlot = 0; barSlot < 6; barSlot++)
        {
            int register = PciIds.Bar0Offset + (4 * barSlot);
            int start = Math.Max(offset, register);
            int end = Math.Min(offset + length, register + 4);
            if (start < end)
            {
                _data.AsSpan(register, 4).CopyTo(merged);
                data.Slice(start - offset, end - start).CopyTo(merged[(start - register)..]);
                mappingChanged |= WriteBarRegister(barSlot, BinaryPrimitives.ReadUInt32LittleEndian(merged));
            }
        }

        foreach (PciCapability capability in _capabilities)
        {
            if (Overlaps(capability, offset, length))
            {
                int start = Math.Max(offset, capability.Offset);
                int end = Math.Min(offset + length, capability.Offset + capability.Length);
                capability.OnWritten(_data.AsSpan(capability.Offset, capability.Length), start - capability.Offset, end - start);
            }
        }

        if (mappingChanged)
        {
            MappingChanged?.Invoke();
        }
    }

    /// <summary>Writes a dword register as the guest would.</summary>
    public void WriteDword(int offset, uint value)
    {
        Span<byte> buffer = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(buffer, value);
        Write(offset, buffer);
    }

    /// <summary>The address programmed into BAR <paramref name="index"/> (both halves for a 64-bit BAR).</summary>
    public ulong GetBarAddress(int index)
    {
        PciBarDefinition bar = _bars[index] ?? throw new ArgumentOutOfRangeException(nameof(index), $"BAR {index} is not declared.");
        ulong low = ReadDwordRaw(PciIds.Bar0Offset + (4 * index)) & ~(bar.Kind == PciBarKind.IO ? 0x3UL : 0xFUL);
        ulong high = bar.Is64Bit ? ReadDwordRaw(PciIds.Bar0Offset + (4 * (index + 1))) : 0;
        return (high << 32) | low;
    }

    /// <summary>
    /// Whether BAR <paramref name="index"/> holds a real address: no half is in the middle of sizing. Only then may
    /// the platform decode it.
    /// </summary>
    public bool IsBarProgrammed(int index)
    {
        PciBarDefinition bar = _bars[index] ?? throw new ArgumentOutOfRangeException(nameof(index), $"BAR {index} is not declared.");
        return !_barSizing[index] && !(bar.Is64Bit && _barSizing[index + 1]);
    }

    /// <summary>Whether the guest's command register lets BAR <paramref name="index"/> decode.</summary>
    public bool IsBarDecodingEnabled(int index)
    {
        PciBarDefinition bar = _bars[index] ?? throw new ArgumentOutOfRangeException(nameof(index), $"BAR {index} is not declared.");
        return bar.Kind == PciBarKind.IO ? IoEnabled : MemoryEnabled;
    }

    /// <summary>The VMM (as firmware) places BAR <paramref name="index"/>; naturally aligned.</summary>
    public void SetBarAddress(int index, ulong address)
    {
        PciBarDefinition bar = _bars[index] ?? throw new ArgumentOutOfRangeException(nameof(index), $"BAR {index} is not declared.");
        if ((address & (bar.Size - 1)) != 0 || (!bar.Is64Bit && address > uint.MaxValue))
        {
            throw new ArgumentOutOfRangeException(nameof(address), $"0x{address:x} is not a valid address for BAR {index}.");
        }

        WriteDwordRaw(PciIds.Bar0Offset + (4 * index), (uint)address | bar.Flags);
        _barSizing[index] = false;
        if (bar.Is64Bit)
        {
            WriteDwordRaw(PciIds.Bar0Offset + (4 * (index + 1)), (uint)(address >> 32));
            _barSizing[index + 1] = false;
        }
    }

    /// <summary>Sets the command register as firmware would (the VMM enabling decoding at boot).</summary>
    public void SetCommand(ushort command)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(_data.AsSpan(PciIds.CommandOffset), command);
        MappingChanged?.Invoke();
    }

    private bool WriteBarRegister(int slot, uint value)
    {
        uint old = ReadDwordRaw(PciIds.Bar0Offset + (4 * slot));
        uint stored;
        if (_bars[slot] is PciBarDefinition bar)
        {
            uint lowFlagBits = bar.Kind == PciBarKind.IO ? 0x3u : 0xFu;
            stored = (value & ~(uint)(bar.Size - 1) & ~lowFlagBits) | bar.Flags;
        }
        else if (slot > 0 && _bars[slot - 1] is { Is64Bit: true } lowerHalf)
        {
            stored = value & (uint)(~(lowerHalf.Size - 1) >> 32);
        }
        else
        {
            // An unimplemented BAR is hard-wired to 0, which sizing reads as "absent".
            return false;
        }

        bool wasSizing = _barSizing[slot];
        _barSizing[slot] = value == 0xFFFF_FFFF;
        WriteDwordRaw(PciIds.Bar0Offset + (4 * slot), stored);
        return stored != old || wasSizing != _barSizing[slot];
    }

    private bool IsUpperHalf(int slot) => slot > 0 && _bars[slot - 1] is { Is64Bit: true };

    private uint ReadDwordRaw(int offset) => BinaryPrimitives.ReadUInt32LittleEndian(_data.AsSpan(offset));

    private void WriteDwordRaw(int offset, uint value) => BinaryPrimitives.WriteUInt32LittleEndian(_data.AsSpan(offset), value);

    private static bool Overlaps(PciCapability capability, int offset, int length)
        => offset < capability.Offset + capability.Length && capability.Offset < offset + length;
}

using System.Buffers.Binary;
using Vmm.Core.Bus;

namespace Vmm.Core.Pci;

/// <summary>
/// Configuration mechanism #1: CONFIG_ADDRESS at 0xCF8 (reads back what was written, any width) and CONFIG_DATA
/// at 0xCFC..0xCFF (any width at <c>register + port - 0xCFC</c>). With the enable bit clear, or for an absent
/// function, data reads all-ones.
/// </summary>
public sealed class PciConfigIo : IBusDevice
{
    /// <summary>The first port (CONFIG_ADDRESS).</summary>
    public const ulong BasePort = 0xCF8;

    /// <summary>Ports 0xCF8..0xCFF.</summary>
    public const ulong Size = 8;

    private const uint EnableBit = 0x8000_0000;

    private readonly PciRoot _root;
    private uint _address;

    internal PciConfigIo(PciRoot root) => _root = root;

    /// <summary>The current CONFIG_ADDRESS value.</summary>
    public uint Address => Volatile.Read(ref _address);

    /// <inheritdoc />
    public void Read(ulong offset, Span<byte> data)
    {
        if (offset + (ulong)data.Length <= 4)
        {
            Span<byte> address = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32LittleEndian(address, Address);
            address.Slice((int)offset, data.Length).CopyTo(data);
            return;
        }

        uint current = Address;
        if (offset < 4 || (current & EnableBit) == 0)
        {
            data.Fill(0xFF);
            return;
        }

        Decode(current, out int bus, out int device, out int function, out int register);
        _root.ReadConfig(bus, device, function, register + (int)(offset - 4), data);
    }

    /// <inheritdoc />
    public void Write(ulong offset, ReadOnlySpan<byte> data)
    {
        if (offset + (ulong)data.Length <= 4)
        {
            Span<byte> address = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32LittleEndian(address, Address);
            data.CopyTo(address[(int)offset..]);
            Volatile.Write(ref _address, BinaryPrimitives.ReadUInt32LittleEndian(address));
            return;
        }

        uint current = Address;
        if (offset < 4 || (current & EnableBit) == 0)
        {
            return;
        }

        Decode(current, out int bus, out int device, out int function, out int register);
        _root.WriteConfig(bus, device, function, register + (int)(offset - 4), data);
    }

    private static void Decode(uint address, out int bus, out int device, out int function, out int register)
    {
        bus = (int)((address >> 16) & 0xFF);
        device = (int)((address >> 11) & 0x1F);
        function = (int)((address >> 8) & 0x7);
        register = (int)(address & 0xFC);
    }
}

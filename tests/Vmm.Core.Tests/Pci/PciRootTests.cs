using System.Buffers.Binary;
using Vmm.Contracts.Pci;
using Vmm.Core.Bus;
using Vmm.Core.Pci;
using Xunit;

namespace Vmm.Core.Tests.Pci;

public sealed class PciRootTests
{
    private const ulong EcamBase = 0xE000_0000;

    private readonly AddressBus _pio = new("pio");
    private readonly AddressBus _mmio = new("mmio");
    private readonly PciRoot _root;

    public PciRootTests()
    {
        _root = new PciRoot(_pio, _mmio);
        _root.RegisterConfigMechanisms(EcamBase);
    }

    [Fact]
    public void Config_address_reads_back_at_every_width_like_linux_probe()
    {
        // pci_check_type1(): outb(0x01, 0xCFB); tmp = inl(0xCF8); outl(0x80000000, 0xCF8); inl(0xCF8) == 0x80000000.
        OutB(0xCFB, 0x01);
        Assert.Equal(0x0100_0000u, InL(0xCF8));
        OutL(0xCF8, 0x8000_0000);
        Assert.Equal(0x8000_0000u, InL(0xCF8));
        Assert.Equal(0x80, InB(0xCFB));
        Assert.Equal(0x8000, InW(0xCFA));
        OutW(0xCF8, 0x1234);
        Assert.Equal(0x8000_1234u, InL(0xCF8));
    }

    [Fact]
    public void Host_bridge_satisfies_pci_sanity_check_at_every_data_width()
    {
        OutL(0xCF8, ConfigAddress(0, 0x00));
        Assert.Equal(0x0D57_8086u, InL(0xCFC));
        Assert.Equal(0x8086, InW(0xCFC));
        Assert.Equal(0x0D57, InW(0xCFE));
        Assert.Equal(0x86, InB(0xCFC));
        Assert.Equal(0x0D, InB(0xCFF));
        OutL(0xCF8, ConfigAddress(0, 0x08));
        Assert.Equal(0x0600u, InL(0xCFC) >> 16);
        OutL(0xCF8, ConfigAddress(0, 0x0C));
        Assert.Equal(0, InB(0xCFE)); // header type 0
    }

    [Fact]
    public void Data_port_writes_of_every_width_land_on_the_addressed_bytes()
    {
        int slot = _root.Attach(new TestFunction());
        OutL(0xCF8, ConfigAddress(slot, 0x3C));
        OutB(0xCFC, 0x0B); // interrupt line: writable
        OutB(0xCFD, 0x04); // interrupt pin: read-only
        Assert.Equal(0x0Bu, InL(0xCFC) & 0xFFFF);

        OutL(0xCF8, ConfigAddress(slot, 0x04));
        OutW(0xCFC, 0x0006); // command
        OutW(0xCFE, 0xFFFF); // status: read-only here
        Assert.Equal(0x0000_0006u, InL(0xCFC));
        Assert.Equal(0x06, InB(0xCFC));
    }

    [Fact]
    public void Disabled_address_and_absent_devices_read_all_ones()
    {
        OutL(0xCF8, ConfigAddress(0, 0) & 0x7FFF_FFFF);
        Assert.Equal(0xFFFF_FFFFu, InL(0xCFC));
        OutL(0xCF8, ConfigAddress(7, 0));
        Assert.Equal(0xFFFF_FFFFu, InL(0xCFC));
        OutL(0xCF8, 0x8001_0000); // bus 1
        Assert.Equal(0xFFFF_FFFFu, InL(0xCFC));
        OutL(0xCF8, 0x8000_0100); // function 1
        Assert.Equal(0xFFFF_FFFFu, InL(0xCFC));
    }

    [Fact]
    public void Bars_are_placed_naturally_aligned_and_size_like_linux()
    {
        int slot = _root.Attach(new TestFunction());
        Assert.Equal(1, slot);

        uint bar0 = ReadConfig(slot, 0x10);
        Assert.Equal(0u, bar0 & 0xFFF);
        Assert.Equal(0u, bar0 & 0xF);
        Assert.InRange(bar0, 0xC000_0000u, 0xDFFF_FFFFu);

        // 32-bit sizing: all-ones, read ~(size-1) | flags, restore.
        WriteConfig(slot, 0x10, 0xFFFF_FFFF);
        Assert.Equal(0xFFFF_F000u, ReadConfig(slot, 0x10));
        WriteConfig(slot, 0x10, bar0);
        Assert.Equal(bar0, ReadConfig(slot, 0x10));

        // 64-bit prefetchable BAR2 (1 MiB): each dword sized separately.
        uint low = ReadConfig(slot, 0x18);
        uint high = ReadConfig(slot, 0x1C);
        Assert.Equal(0xCu, low & 0xF);
        Assert.NotEqual(0u, high);
        WriteConfig(slot, 0x18, 0xFFFF_FFFF);
        Assert.Equal(0xFFF0_000Cu, ReadConfig(slot, 0x18));
        WriteConfig(slot, 0x1C, 0xFFFF_FFFF);
        Assert.Equal(0xFFFF_FFFFu, ReadConfig(slot, 0x1C));
        WriteConfig(slot, 0x18, low);
        WriteConfig(slot, 0x1C, high);
        Assert.Equal(low, ReadConfig(slot, 0x18));

        // I/O BAR4 (32 ports).
        WriteConfig(slot, 0x20, 0xFFFF_FFFF);
        Assert.Equal(0xFFFF_FFE1u, ReadConfig(slot, 0x20));

        // Unimplemented BAR5 and expansion ROM read 0 after sizing.
        WriteConfig(slot, 0x24, 0xFFFF_FFFF);
        Assert.Equal(0u, ReadConfig(slot, 0x24));
        WriteConfig(slot, 0x30, 0xFFFF_FFFF);
        Assert.Equal(0u, ReadConfig(slot, 0x30));
    }

    [Fact]
    public void Command_register_gates_decoding_and_read_only_fields_stay()
    {
        var function = new TestFunction();
        int slot = _root.Attach(function);
        ulong bar0 = ReadConfig(slot, 0x10);
        byte[] data = new byte[4];

        Assert.False(_mmio.Read(bar0, data));

        WriteConfig(slot, 0x04, 0x0007);
        Assert.True(_mmio.Read(bar0 + 8, data));
        Assert.Equal(8UL, BinaryPrimitives.ReadUInt32LittleEndian(data));
        ulong io = ReadConfig(slot, 0x20) & ~3u;
        Assert.True(_pio.Read(io + 4, data));

        WriteConfig(slot, 0x00, 0xFFFF_FFFF);
        WriteConfig(slot, 0x08, 0xFFFF_FFFF);
        Assert.Equal(0x1234_5678u, ReadConfig(slot, 0x00));
        Assert.Equal(0xFF00_0001u, ReadConfig(slot, 0x08));
        WriteConfig(slot, 0x04, 0xFFFF_FFFF);
        Assert.Equal(0x0407u, ReadConfig(slot, 0x04) & 0xFFFF);

        WriteConfig(slot, 0x04, 0);
        Assert.False(_mmio.Read(bar0, data));
    }

    [Fact]
    public void Relocating_a_64_bit_bar_moves_it_once_both_halves_are_written()
    {
        var function = new TestFunction();
        int slot = _root.Attach(function);
        WriteConfig(slot, 0x04, 0x0002);
        var moves = new List<PciBarMovedEventArgs>();
        _root.BarMoved += (_, e) => moves.Add(e);
        ulong oldAddress = _root.GetDecodedBarAddress(slot, 2)!.Value;

        WriteConfig(slot, 0x18, 0xFFFF_FFFF);
        WriteConfig(slot, 0x1C, 0xFFFF_FFFF);
        WriteConfig(slot, 0x18, 0x0040_0000);
        Assert.Null(_root.GetDecodedBarAddress(slot, 2));
        WriteConfig(slot, 0x1C, 0x0000_0020);

        Assert.Equal(0x20_0040_0000UL, _root.GetDecodedBarAddress(slot, 2));
        Assert.Equal(oldAddress, moves[0].OldAddress);
        Assert.Equal(0x20_0040_0000UL, moves[^1].NewAddress);
        Assert.Equal(2, moves[^1].Bar.Index);
        byte[] data = new byte[4];
        Assert.True(_mmio.Read(0x20_0040_0010, data));
        Assert.False(_mmio.Read(oldAddress, data));
        Assert.Equal((2, 0x10UL), function.LastRead);
    }

    [Fact]
    public void Capability_list_is_linked_from_0x34_with_the_status_bit()
    {
        var function = new TestFunction();
        function.ConfigSpace.AddCapability(new TestCapability(0x09, 16));
        function.ConfigSpace.AddCapability(new TestCapability(0x11, 12));
        int slot = _root.Attach(function);

        Assert.NotEqual(0u, (ReadConfig(slot, 0x04) >> 16) & 0x10);
        var ids = new List<(int Offset, byte Id)>();
        int pointer = (int)(ReadConfig(slot, 0x34) & 0xFF);
        while (pointer != 0)
        {
            uint header = ReadConfig(slot, pointer);
            ids.Add((pointer, (byte)header));
            pointer = (int)((header >> 8) & 0xFF);
        }

        Assert.Equal([(0x40, (byte)0x09), (0x50, (byte)0x11)], ids);
    }

    [Fact]
    public void Ecam_reaches_the_same_registers_and_reads_zero_beyond_256()
    {
        int slot = _root.Attach(new TestFunction());
        byte[] data = new byte[4];
        _mmio.Read(EcamBase + ((ulong)slot << 15), data);
        Assert.Equal(0x1234_5678u, BinaryPrimitives.ReadUInt32LittleEndian(data));
        _mmio.Read(EcamBase + ((ulong)slot << 15) + 0x100, data);
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32LittleEndian(data));
        _mmio.Read(EcamBase + (9UL << 15), data);
        Assert.Equal(0xFFFF_FFFFu, BinaryPrimitives.ReadUInt32LittleEndian(data));

        BinaryPrimitives.WriteUInt32LittleEndian(data, 0x2);
        _mmio.Write(EcamBase + ((ulong)slot << 15) + 4, data);
        Assert.Equal(2u, ReadConfig(slot, 0x04) & 0xFFFF);
    }

    private static uint ConfigAddress(int device, int register) => 0x8000_0000u | ((uint)device << 11) | (uint)register;

    private uint ReadConfig(int device, int register)
    {
        OutL(0xCF8, ConfigAddress(device, register));
        return InL(0xCFC);
    }

    private void WriteConfig(int device, int register, uint value)
    {
        OutL(0xCF8, ConfigAddress(device, register));
        OutL(0xCFC, value);
    }

    private void OutB(ulong port, byte value) => _pio.Write(port, [value]);

    private void OutW(ulong port, ushort value)
    {
        byte[] data = new byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(data, value);
        _pio.Write(port, data);
    }

    private void OutL(ulong port, uint value)
    {
        byte[] data = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(data, value);
        _pio.Write(port, data);
    }

    private byte InB(ulong port)
    {
        byte[] data = new byte[1];
        _pio.Read(port, data);
        return data[0];
    }

    private ushort InW(ulong port)
    {
        byte[] data = new byte[2];
        _pio.Read(port, data);
        return BinaryPrimitives.ReadUInt16LittleEndian(data);
    }

    private uint InL(ulong port)
    {
        byte[] data = new byte[4];
        _pio.Read(port, data);
        return BinaryPrimitives.ReadUInt32LittleEndian(data);
    }

    private sealed class TestFunction : IPciFunction
    {
        public TestFunction()
        {
            ConfigSpace.AddBar(new PciBarDefinition(0, 0x1000, PciBarKind.Memory32));
            ConfigSpace.AddBar(new PciBarDefinition(2, 0x10_0000, PciBarKind.Memory64, Prefetchable: true));
            ConfigSpace.AddBar(new PciBarDefinition(4, 0x20, PciBarKind.IO));
        }

        public PciConfigSpace ConfigSpace { get; } = new(new PciDeviceIdentity(0x5678, 0x1234, 0xFF, 0x00, 0x00, 0x01, 0, 0));

        public (int Bar, ulong Offset)? LastRead { get; private set; }

        public void ReadBar(int barIndex, ulong offset, Span<byte> data)
        {
            LastRead = (barIndex, offset);
            data.Clear();
            data[0] = (byte)offset;
        }

        public void WriteBar(int barIndex, ulong offset, ReadOnlySpan<byte> data)
        {
        }
    }

    private sealed class TestCapability(byte id, int length) : PciCapability
    {
        public override byte Id => id;

        public override int Length => length;

        protected internal override void Initialize(Span<byte> bytes, Span<byte> writeMask)
        {
        }
    }
}

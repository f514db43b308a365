using System.Buffers.Binary;
using System.Text;
using Vmm.Contracts.Memory;

namespace Vmm.Kvm.Boot;

/// <summary>
/// An Intel MP 1.4 table (floating pointer + configuration table) so Linux without ACPI finds every CPU and the
/// IOAPIC: one processor entry per vCPU, an ISA and a PCI bus, the IOAPIC, ISA IRQ i to IOAPIC pin i for the 24
/// pins KVM routes by default, and LINT0 ExtINT / LINT1 NMI.
/// </summary>
public static class MpTable
{
    /// <summary>The in-kernel IOAPIC's address.</summary>
    public const uint IoApicAddress = 0xFEC0_0000;

    /// <summary>The LAPIC's address.</summary>
    public const uint LocalApicAddress = 0xFEE0_0000;

    /// <summary>IOAPIC pins: KVM's in-kernel IOAPIC has 24.</summary>
    public const int IoApicPins = 24;

    private const int FloatingPointerSize = 16;
    private const int HeaderSize = 44;
    private const int ProcessorEntrySize = 20;
    private const int SmallEntrySize = 8;
    private const byte IsaBusId = 0;
    private const byte PciBusId = 1;

    /// <summary>The table's size in bytes for <paramref name="vcpus"/> processors (floating pointer included).</summary>
    public static int SizeFor(int vcpus) => FloatingPointerSize + HeaderSize + (vcpus * ProcessorEntrySize) + ((2 + 1 + IoApicPins + 2) * SmallEntrySize);

    /// <summary>The IOAPIC's id: after every CPU's APIC id.</summary>
    public static byte IoApicId(int vcpus) => (byte)(vcpus + 1);

    /// <summary>Builds the table for <paramref name="vcpus"/> vCPUs to live at <paramref name="address"/>.</summary>
    public static byte[] Build(int vcpus, ulong address = BootLayout.MpTableAddress)
    {
        if (vcpus is < 1 or > 254)
        {
            throw new ArgumentOutOfRangeException(nameof(vcpus), vcpus, "An MP table describes 1 to 254 processors.");
        }

        byte[] table = new byte[SizeFor(vcpus)];
        Span<byte> pointer = table.AsSpan(0, FloatingPointerSize);
        Encoding.ASCII.GetBytes("_MP_", pointer);
        BinaryPrimitives.WriteUInt32LittleEndian(pointer[4..], (uint)(address + FloatingPointerSize));
        pointer[8] = 1; // length in 16-byte units
        pointer[9] = 4; // spec revision 1.4
        pointer[10] = Checksum(pointer);

        Span<byte> config = table.AsSpan(FloatingPointerSize);
        Encoding.ASCII.GetBytes("PCMP", config);
        BinaryPrimitives.WriteUInt16LittleEndian(config[4..], (ushort)config.Length);
        config[6] = 4;
        Encoding.ASCII.GetBytes("VMM     ", config[8..16]);
        Encoding.ASCII.GetBytes("KVM MICROVM ", config[16..28]);
        BinaryPrimitives.WriteUInt32LittleEndian(config[36..], LocalApicAddress);

        int offset = HeaderSize;
        int count = 0;
        for (int cpu = 0; cpu < vcpus; cpu++)
        {
            Span<byte> entry = config.Slice(offset, ProcessorEntrySize);
            entry[0] = 0; // processor
            entry[1] = (byte)cpu;
            entry[2] = 0x14; // LAPIC version
            entry[3] = (byte)(cpu == 0 ? 0x3 : 0x1); // enabled, BSP
            BinaryPrimitives.WriteUInt32LittleEndian(entry[4..], 0x600); // family 6
            BinaryPrimitives.WriteUInt32LittleEndian(entry[8..], 0x201); // APIC | FPU
            offset += ProcessorEntrySize;
            count++;
        }

        offset = WriteBus(config, offset, IsaBusId, "ISA   ", ref count);
        offset = WriteBus(config, offset, PciBusId, "PCI   ", ref count);

        Span<byte> ioApic = config.Slice(offset, SmallEntrySize);
        ioApic[0] = 2;
        ioApic[1] = IoApicId(vcpus);
        ioApic[2] = 0x11; // IOAPIC version
        ioApic[3] = 1; // usable
        BinaryPrimitives.WriteUInt32LittleEndian(ioApic[4..], IoApicAddress);
        offset += SmallEntrySize;
        count++;

        for (int pin = 0; pin < IoApicPins; pin++)
        {
            Span<byte> entry = config.Slice(offset, SmallEntrySize);
            entry[0] = 3; // I/O interrupt
            entry[1] = 0; // INT
            entry[4] = IsaBusId;
            entry[5] = (byte)pin;
            entry[6] = IoApicId(vcpus);
            entry[7] = (byte)pin;
            offset += SmallEntrySize;
            count++;
        }

        offset = WriteLocalInterrupt(config, offset, 3, 0, 0, ref count); // ExtINT -> LINT0 of the BSP
        offset = WriteLocalInterrupt(config, offset, 1, 0xFF, 1, ref count); // NMI -> LINT1 of all
        BinaryPrimitives.WriteUInt16LittleEndian(config[34..], (ushort)count);
        config[7] = Checksum(config[..offset]);
        return table;
    }

    /// <summary>Writes the table into <paramref name="memory"/> at <see cref="BootLayout.MpTableAddress"/>.</summary>
    public static void Write(IGuestMemory memory, int vcpus)
    {
        ArgumentNullException.ThrowIfNull(memory);
        memory.Write(BootLayout.MpTableAddress, Build(vcpus));
    }

    private static int WriteBus(Span<byte> config, int offset, byte id, string name, ref int count)
    {
        Span<byte> entry = config.Slice(offset, SmallEntrySize);
        entry[0] = 1;
        entry[1] = id;
        Encoding.ASCII.GetBytes(name, entry[2..]);
        count++;
        return offset + SmallEntrySize;
    }

    private static int WriteLocalInterrupt(Span<byte> config, int offset, byte type, byte apic, byte lint, ref int count)
    {
        Span<byte> entry = config.Slice(offset, SmallEntrySize);
        entry[0] = 4;
        entry[1] = type;
        entry[4] = IsaBusId;
        entry[6] = apic;
        entry[7] = lint;
        count++;
        return offset + SmallEntrySize;
    }

    private static byte Checksum(ReadOnlySpan<byte> bytes)
    {
        byte sum = 0;
        foreach (byte b in bytes)
        {
            sum += b;
        }

        return (byte)-sum;
    }
}

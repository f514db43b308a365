using System.Buffers.Binary;
using Vmm.Kvm.Boot;
using Xunit;

namespace Vmm.Kvm.Tests.Boot;

public sealed class MpTableTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    public void TableChecksumsAndEntriesAreWhatLinuxParses(int vcpus)
    {
        byte[] table = MpTable.Build(vcpus);

        Assert.Equal("_MP_"u8.ToArray(), table[..4]);
        Assert.Equal(0, Sum(table.AsSpan(0, 16)));
        uint configAddress = BinaryPrimitives.ReadUInt32LittleEndian(table.AsSpan(4));
        Assert.Equal(BootLayout.MpTableAddress + 16, configAddress);
        ReadOnlySpan<byte> config = table.AsSpan(16);
        Assert.Equal("PCMP"u8.ToArray(), config[..4].ToArray());
        int length = BinaryPrimitives.ReadUInt16LittleEndian(config[4..]);
        Assert.Equal(config.Length, length);
        Assert.Equal(0, Sum(config[..length]));
        Assert.Equal(MpTable.LocalApicAddress, BinaryPrimitives.ReadUInt32LittleEndian(config[36..]));

        int offset = 44;
        List<byte> types = [];
        List<byte> cpus = [];
        List<(byte Bus, byte Irq, byte Apic, byte Pin)> interrupts = [];
        while (offset < length)
        {
            byte type = config[offset];
            types.Add(type);
            if (type == 0)
            {
                cpus.Add(config[offset + 1]);
                Assert.Equal(cpus.Count == 1 ? 3 : 1, config[offset + 3]);
            }
            else if (type == 2)
            {
                Assert.Equal(MpTable.IoApicId(vcpus), config[offset + 1]);
                Assert.Equal(MpTable.IoApicAddress, BinaryPrimitives.ReadUInt32LittleEndian(config[(offset + 4)..]));
            }
            else if (type == 3)
            {
                interrupts.Add((config[offset + 4], config[offset + 5], config[offset + 6], config[offset + 7]));
            }

            offset += type == 0 ? 20 : 8;
        }

        Assert.Equal(length, offset);
        Assert.Equal(types.Count, BinaryPrimitives.ReadUInt16LittleEndian(config[34..]));
        Assert.Equal(Enumerable.Range(0, vcpus).Select(i => (byte)i), cpus);
        Assert.Equal(2, types.Count(t => t == 1));
        Assert.Equal(24, interrupts.Count);
        Assert.Contains(((byte)0, (byte)4, MpTable.IoApicId(vcpus), (byte)4), interrupts); // COM1
        Assert.DoesNotContain(MpTable.IoApicId(vcpus), cpus);
    }

    [Fact]
    public void ProcessorCountOutsideOneTo254IsRejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => MpTable.Build(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => MpTable.Build(255));
    }

    private static byte Sum(ReadOnlySpan<byte> bytes)
    {
        byte sum = 0;
        foreach (byte b in bytes)
        {
            sum += b;
        }

        return sum;
    }
}

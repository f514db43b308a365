using System.Buffers.Binary;
using Vmm.Core.Pci;
using Xunit;

namespace Vmm.Core.Tests.Pci;

public sealed class MsixTableTests
{
    [Fact]
    public void Reset_state_is_masked_and_signals_become_pending()
    {
        var controller = new RecordingMsiController();
        using var table = new MsixTable(3, controller);
        table.SetControl(enabled: true, functionMasked: false);

        Assert.True(table.IsMasked(1));
        table.Signal(1);
        Assert.Equal(0, controller.Vectors[1].Signals);
        Assert.True(table.IsPending(1));
        Assert.Equal(0b010UL, ReadPba(table));
    }

    [Fact]
    public void Unmasking_delivers_the_pending_message_once()
    {
        var controller = new RecordingMsiController();
        using var table = new MsixTable(2, controller);
        table.SetControl(enabled: true, functionMasked: false);
        WriteEntry(table, 0, 0xFEE0_0000, 0x41, masked: true);
        table.Signal(0);
        Assert.True(table.IsPending(0));

        WriteEntry(table, 0, 0xFEE0_0000, 0x41, masked: false);

        Assert.False(table.IsPending(0));
        Assert.Equal(1, controller.Vectors[0].Signals);
        Assert.Equal((0xFEE0_0000UL, 0x41u), (controller.Vectors[0].Address, controller.Vectors[0].Data));

        table.Signal(0);
        Assert.Equal(2, controller.Vectors[0].Signals);
    }

    [Fact]
    public void Function_mask_holds_every_vector_until_cleared()
    {
        var controller = new RecordingMsiController();
        using var table = new MsixTable(2, controller);
        WriteEntry(table, 0, 0xFEE0_0000, 0x30, masked: false);
        WriteEntry(table, 1, 0xFEE0_0000, 0x31, masked: false);
        table.SetControl(enabled: true, functionMasked: true);

        table.Signal(0);
        table.Signal(1);
        Assert.Equal(0, controller.Vectors[0].Signals + controller.Vectors[1].Signals);
        Assert.Equal(0b11UL, ReadPba(table));

        table.SetControl(enabled: true, functionMasked: false);
        Assert.Equal(1, controller.Vectors[0].Signals);
        Assert.Equal(1, controller.Vectors[1].Signals);
        Assert.Equal(0UL, ReadPba(table));
    }

    [Fact]
    public void Disabled_table_drops_signals()
    {
        var controller = new RecordingMsiController();
        using var table = new MsixTable(1, controller);
        WriteEntry(table, 0, 0xFEE0_0000, 0x30, masked: false);
        table.Signal(0);
        Assert.Equal(0, controller.Vectors[0].Signals);
        Assert.False(table.IsPending(0));
        Assert.Equal(1, table.DroppedCount);
    }

    [Fact]
    public void Capability_exposes_table_size_and_locations_and_controls_enable()
    {
        var controller = new RecordingMsiController();
        using var table = new MsixTable(5, controller);
        var config = new PciConfigSpace(new(0x1AF4, 0x1041, 0x02, 0x00, 0, 1, 0x1AF4, 1));
        var capability = new MsixCapability(table, 0, 0x8000, 0x48000);
        int offset = config.AddCapability(capability);

        Assert.Equal(0x11u, config.ReadDword(offset) & 0xFF);
        Assert.Equal(4u, config.ReadDword(offset) >> 16);
        Assert.Equal(0x8000u, config.ReadDword(offset + 4));
        Assert.Equal(0x48000u, config.ReadDword(offset + 8));

        // Table size is read-only; enable and function mask are writable.
        config.Write(offset + 2, [0xFF, 0xFF]);
        Assert.True(table.Enabled);
        Assert.True(table.FunctionMasked);
        Assert.Equal(0xC004u, config.ReadDword(offset) >> 16);
        config.Write(offset + 3, [0x80]);
        Assert.False(table.FunctionMasked);
    }

    private static void WriteEntry(MsixTable table, int vector, ulong address, uint data, bool masked)
    {
        byte[] entry = new byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(entry, address);
        BinaryPrimitives.WriteUInt32LittleEndian(entry.AsSpan(8), data);
        BinaryPrimitives.WriteUInt32LittleEndian(entry.AsSpan(12), masked ? 1u : 0u);

        // Linux writes dword by dword.
        for (int i = 0; i < 16; i += 4)
        {
            table.WriteTable((ulong)((vector * 16) + i), entry.AsSpan(i, 4));
        }
    }

    private static ulong ReadPba(MsixTable table)
    {
        byte[] pba = new byte[8];
        table.ReadPendingBitArray(0, pba);
        return BinaryPrimitives.ReadUInt64LittleEndian(pba);
    }
}

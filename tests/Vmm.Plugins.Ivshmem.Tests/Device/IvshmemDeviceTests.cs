using Vmm.Contracts.Pci;
using Vmm.Core.Pci;
using Vmm.Plugins.Ivshmem.Device;
using Vmm.Plugins.Ivshmem.SharedMemory;
using Vmm.Testing.Driver;
using Vmm.Testing.InProcess;
using Xunit;

namespace Vmm.Plugins.Ivshmem.Tests.Device;

/// <summary>
/// The device as a guest finds it: enumerated through conf1 (ports 0xCF8/0xCFC) on the in-process machine, BARs
/// sized with all-ones, the register block driven through MMIO like a driver would.
/// </summary>
public sealed class IvshmemDeviceTests
{
    private const long Size = 4L << 20;

    [Fact]
    public void TheGuestEnumeratesQemusIvshmemPlainIdentityAndBars()
    {
        using var machine = new InProcessMachine();
        using IvshmemDevice device = new("lg0", SharedMemoryFile.CreateAnonymous("ivshmem-lg0", Size));
        machine.AttachPciDevice(device);
        var pci = new PciEnumerator(machine);

        PciFunctionInfo function = Assert.Single(pci.Enumerate(), f => f.VendorId != 0x8086);
        int slot = function.Device;

        Assert.Equal((0x1AF4, 0x1110, (byte)1, 0x050000u), (function.VendorId, function.DeviceId, function.Revision, function.ClassCode));
        Assert.Equal(0x1AF4u, pci.ReadConfig(slot, PciIds.SubsystemVendorIdOffset, 2));
        Assert.Equal(0x1100u, pci.ReadConfig(slot, PciIds.SubsystemIdOffset, 2));
        Assert.Equal(0u, pci.ReadConfig(slot, 0x3D, 1)); // interrupt pin: no INTx
        Assert.Equal(0u, pci.ReadConfig(slot, 0x0E, 1)); // header type 0, single function
        Assert.Empty(function.Capabilities); // no MSI-X (ivshmem-plain)
        Assert.Equal(
            [new PciBarInfo(0, function.GetBar(0).Address, 0x100, PciBarKind.Memory32, false), new PciBarInfo(2, function.GetBar(2).Address, (ulong)Size, PciBarKind.Memory64, true)],
            function.Bars);

        // Sizing by hand, as Linux's __pci_read_base does: all-ones in, ~(size-1) | flags out.
        pci.WriteConfig(slot, PciIds.Bar0Offset, 4, 0xFFFF_FFFF);
        Assert.Equal(0xFFFF_FF00u, pci.ReadConfig(slot, PciIds.Bar0Offset, 4)); // 256 bytes, memory, 32-bit, not prefetchable
        pci.WriteConfig(slot, PciIds.Bar0Offset + 8, 4, 0xFFFF_FFFF);
        pci.WriteConfig(slot, PciIds.Bar0Offset + 12, 4, 0xFFFF_FFFF);
        Assert.Equal(0xFFC0_000Cu, pci.ReadConfig(slot, PciIds.Bar0Offset + 8, 4)); // 4 MiB, 64-bit (0x4), prefetchable (0x8)
        Assert.Equal(0xFFFF_FFFFu, pci.ReadConfig(slot, PciIds.Bar0Offset + 12, 4));
        Assert.Equal(0u, pci.ReadConfig(slot, PciIds.Bar0Offset + 4, 4)); // BAR1: no MSI-X table
        Assert.Equal(0u, pci.ReadConfig(slot, PciIds.Bar0Offset + 16, 4));
        Assert.Equal(0u, pci.ReadConfig(slot, PciIds.Bar0Offset + 20, 4));

        // The whole header once the BARs are placed where a payload would put them (golden: any change shows here).
        pci.WriteConfig(slot, PciIds.Bar0Offset, 4, 0xD000_0000);
        pci.WriteConfig(slot, PciIds.Bar0Offset + 8, 4, 0xD800_0000);
        pci.WriteConfig(slot, PciIds.Bar0Offset + 12, 4, 0);
        Assert.Equal(
            "f41a1011000000000100000500000000" + "000000d000000000" + "0c0000d800000000" + "0000000000000000"
            + "00000000f41a0011" + "0000000000000000" + "0000000000000000",
            Convert.ToHexStringLower(ReadHeader(pci, slot)));
    }

    [Fact]
    public void TheRegisterBlockAnswersOnlyFourByteAccesses()
    {
        using var machine = new InProcessMachine();
        using IvshmemDevice device = new("lg0", SharedMemoryFile.CreateAnonymous("ivshmem-lg0", Size));
        machine.AttachPciDevice(device);
        var pci = new PciEnumerator(machine);
        PciFunctionInfo function = Assert.Single(pci.Enumerate(), f => f.DeviceId == 0x1110);
        pci.Enable(function.Device);
        ulong registers = function.GetBar(0).Address;

        machine.WriteMmio(registers + 0x00, 4, 0xFFFF_FFFF);
        Assert.Equal(0xFFFF_FFFFul, machine.ReadMmio(registers + 0x00, 4)); // IntrMask keeps what was written

        machine.WriteMmio(registers + 0x04, 4, 1);
        Assert.Equal(1ul, machine.ReadMmio(registers + 0x04, 4)); // IntrStatus...
        Assert.Equal(0ul, machine.ReadMmio(registers + 0x04, 4)); // ...is cleared by reading it

        machine.WriteMmio(registers + 0x08, 4, 0x1234);
        Assert.Equal(0ul, machine.ReadMmio(registers + 0x08, 4)); // IVPosition: read-only, 0 without interrupts

        machine.WriteMmio(registers + 0x0C, 4, 0x0001_0000);
        Assert.Equal(0ul, machine.ReadMmio(registers + 0x0C, 4)); // the doorbell rings no one and reads 0

        for (ulong offset = 0x10; offset < 0x100; offset += 4)
        {
            machine.WriteMmio(registers + offset, 4, 0xA5A5_A5A5);
            Assert.Equal(0ul, machine.ReadMmio(registers + offset, 4)); // reserved
        }

        // Anything but a 4-byte access reads 0 and changes nothing (QEMU's min/max_access_size = 4).
        machine.WriteMmio(registers + 0x00, 2, 0);
        machine.WriteMmio(registers + 0x00, 1, 0);
        machine.WriteMmio(registers + 0x00, 8, 0);
        Assert.Equal(0ul, machine.ReadMmio(registers + 0x00, 2));
        Assert.Equal(0ul, machine.ReadMmio(registers + 0x00, 1));
        Assert.Equal(0xFFFF_FFFFul, machine.ReadMmio(registers + 0x00, 4));

        device.Reset();
        Assert.Equal(0ul, machine.ReadMmio(registers + 0x00, 4));
    }

    [Fact]
    public void BarTwoIsTheSharedMemorysFileForThePlatformToMap()
    {
        using IvshmemDevice device = new("lg0", SharedMemoryFile.CreateAnonymous("ivshmem-lg0", Size));

        PciBar bar = Assert.Single(device.Bars, b => b.Index == IvshmemDevice.SharedMemoryBar);

        Assert.Same(device.SharedMemory.Handle, bar.BackingFile);
        Assert.Equal((0L, (ulong)Size, PciBarKind.Memory64, true), (bar.BackingFileOffset, bar.Size, bar.Kind, bar.Prefetchable));
        Assert.Null(Assert.Single(device.Bars, b => b.Index == IvshmemDevice.RegistersBar).BackingFile);
        Assert.Equal(0, device.MsixVectorCount);
    }

    private static byte[] ReadHeader(PciEnumerator pci, int slot)
    {
        byte[] header = new byte[0x40];
        for (int offset = 0; offset < header.Length; offset += 4)
        {
            BitConverter.TryWriteBytes(header.AsSpan(offset), pci.ReadConfig(slot, offset, 4));
        }

        return header;
    }
}

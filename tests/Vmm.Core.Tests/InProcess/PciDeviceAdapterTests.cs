using Vmm.Contracts.Pci;
using Vmm.Testing.Driver;
using Vmm.Testing.InProcess;
using Xunit;

namespace Vmm.Core.Tests.InProcess;

public sealed class PciDeviceAdapterTests
{
    [Fact]
    public void Plugin_pci_device_is_enumerated_decoded_and_interrupts_through_msix()
    {
        using var machine = new InProcessMachine();
        var device = new RegisterDevice();
        var adapter = machine.AttachPciDevice(device);
        var pci = new PciEnumerator(machine);
        PciFunctionInfo function = pci.Enumerate().Single(f => f.VendorId == 0x1AF4 && f.DeviceId == 0x1110);
        pci.Enable(function.Device);

        Assert.Equal(0x050000u, function.ClassCode);
        PciBarInfo registers = function.GetBar(0);
        Assert.Equal((0x100UL, PciBarKind.Memory32), (registers.Size, registers.Kind));
        PciBarInfo shared = function.GetBar(2);
        Assert.Equal((1UL << 20, PciBarKind.Memory64, true), (shared.Size, shared.Kind, shared.Prefetchable));

        machine.WriteMmio(registers.Address + 4, 4, 0xCAFE);
        Assert.Equal(0xCAFEul, machine.ReadMmio(registers.Address + 4, 4));
        Assert.Equal((0, 4UL), device.LastWrite);

        // The file-backed BAR is the platform's: nothing decodes it on the bus.
        Assert.Equal(0xFFFF_FFFFul, machine.ReadMmio(shared.Address, 4));

        // MSI-X: table in the BAR the adapter added; program vector 1 and enable.
        PciCapabilityInfo msix = function.Capabilities.Single(c => c.Id == 0x11);
        uint table = pci.ReadConfig(function.Device, msix.Offset + 4, 4);
        ulong tableAddress = function.GetBar((int)(table & 7)).Address + (table & ~7u);
        Assert.Equal(adapter.MsixBarIndex, (int)(table & 7));
        uint vector = machine.Msi.AllocateVectors(2);
        machine.WriteMmio(tableAddress + 16, 4, 0xFEE0_0000);
        machine.WriteMmio(tableAddress + 24, 4, vector + 1);
        machine.WriteMmio(tableAddress + 28, 4, 0);
        pci.WriteConfig(function.Device, msix.Offset + 2, 2, 0x8000);

        device.Context!.SignalMsix(1);

        Assert.Equal(1, machine.Msi.GetSignalCount(vector + 1));
        Assert.Equal(new MsiMessage(0xFEE0_0000, vector + 1), machine.Msi.Messages[^1]);
    }

    private sealed class RegisterDevice : IPciDevice
    {
        private readonly byte[] _registers = new byte[0x100];

        public string Id => "registers";

        public PciDeviceIdentity Identity => new(0x1AF4, 0x1110, 0x05, 0x00, 0x00, 0x01, 0x1AF4, 0x1100);

        public IReadOnlyList<PciBar> Bars { get; } =
        [
            new PciBar(0, 0x100, PciBarKind.Memory32),
            new PciBar(2, 1UL << 20, PciBarKind.Memory64, Prefetchable: true, BackingFile: new Microsoft.Win32.SafeHandles.SafeFileHandle(-1, ownsHandle: false)),
        ];

        public int MsixVectorCount => 2;

        public IPciDeviceContext? Context { get; private set; }

        public (int Bar, ulong Offset)? LastWrite { get; private set; }

        public void ReadBar(int barIndex, ulong offset, Span<byte> data) => _registers.AsSpan((int)offset, data.Length).CopyTo(data);

        public void WriteBar(int barIndex, ulong offset, ReadOnlySpan<byte> data)
        {
            LastWrite = (barIndex, offset);
            data.CopyTo(_registers.AsSpan((int)offset));
        }

        public void Activate(IPciDeviceContext context) => Context = context;

        public void Reset() => Array.Clear(_registers);

        public void Dispose()
        {
        }
    }
}

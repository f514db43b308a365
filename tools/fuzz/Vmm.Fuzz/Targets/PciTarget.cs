using Microsoft.Extensions.DependencyInjection;
using Vmm.Contracts.Devices;
using Vmm.Contracts.Virtio;
using Vmm.Core.Pci;
using Vmm.Fuzz.Harness;
using Vmm.Plugins.VirtioInput;
using Vmm.Testing.Driver;
using Vmm.Testing.InProcess;

namespace Vmm.Fuzz.Targets;

/// <summary>
/// PCI configuration space (ECAM and the 0xCF8/0xCFC ports) and BAR 0 of a virtio-pci function (common config,
/// notify, ISR, device config, MSI-X table and PBA) under a list of reads and writes of any size at any offset.
/// Each input starts from a restored function: BAR 0 where enumeration put it, decoding on, the device brought up
/// again. Expected: nothing escapes (unclaimed accesses are dropped, bad values ignored or a typed protocol error
/// fails the device). A finding: any exception, or a function that cannot be brought up again.
/// </summary>
public sealed class PciTarget : FuzzTarget
{
    private static readonly int[] s_configSizes = [1, 2, 4];
    private static readonly int[] s_mmioSizes = [1, 2, 4, 8];

    private DeviceRig? _rig;
    private PciBarInfo _bar0;

    /// <inheritdoc/>
    public override string Name => "pci";

    /// <inheritdoc/>
    public override void Run(ReadOnlySpan<byte> input)
    {
        if (_rig is null || !_rig.CanReset)
        {
            _rig?.Dispose();
            _rig = new DeviceRig(CreateDevice, VirtioDeviceType.Input);
            _bar0 = _rig.Driver.Function.GetBar(0);
        }

        DeviceRig rig = _rig;
        int device = rig.Driver.Function.Device;
        var pci = new PciEnumerator(rig.Machine);
        pci.WriteConfig(device, PciIds.CommandOffset, 2, 0);
        pci.WriteConfig(device, PciIds.Bar0Offset, 4, (uint)_bar0.Address);
        pci.WriteConfig(device, PciIds.Bar0Offset + 4, 4, (uint)(_bar0.Address >> 32));
        pci.Enable(device);
        rig.Reinitialize();

        ulong ecam = InProcessMachine.EcamBase + ((ulong)device << 15);
        var reader = new FuzzInput(input);
        try
        {
            while (!reader.IsEmpty)
            {
                byte op = reader.U8();
                int configSize = s_configSizes[(op >> 3) % s_configSizes.Length];
                int mmioSize = s_mmioSizes[(op >> 3) % s_mmioSizes.Length];
                switch (op % 6)
                {
                    case 0:
                        rig.Machine.WriteMmio(ecam + (ulong)(reader.U16() % 4096), configSize, reader.U32());
                        break;
                    case 1:
                        rig.Machine.ReadMmio(ecam + (ulong)(reader.U16() % 4096), configSize);
                        break;
                    case 2:
                        pci.WriteConfig(device, reader.U8(), configSize, reader.U32());
                        break;
                    case 3:
                        pci.ReadConfig(device, reader.U8(), configSize);
                        break;
                    case 4:
                        rig.Machine.WriteMmio(_bar0.Address + (reader.U32() % _bar0.Size), mmioSize, reader.U32() | ((ulong)reader.U32() << 32));
                        break;
                    default:
                        rig.Machine.ReadMmio(_bar0.Address + (reader.U32() % _bar0.Size), mmioSize);
                        break;
                }
            }
        }
        catch (Exception exception) when (DeviceRig.IsExpected(exception))
        {
            // A typed protocol error from the transport.
        }

        rig.ThrowOnUnexpected();
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _rig?.Dispose();
        }
    }

    private static IVirtioDevice CreateDevice(Microsoft.Extensions.Logging.ILoggerFactory log)
    {
        IDeviceFactory factory = new VirtioInputDeviceFactory();
        var context = new DeviceCreateContext("input0", log, null, new ServiceCollection().BuildServiceProvider(), Path.GetTempPath());
        return (IVirtioDevice)factory.Create(context, new VirtioInputOptions { Kind = "keyboard" });
    }
}

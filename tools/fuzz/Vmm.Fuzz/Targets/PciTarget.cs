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
/// Each input gets a fresh machine with the function enumerated and the device up; after it the function is
/// restored (BAR 0 where enumeration put it, decoding on) and brought up again. Expected: nothing escapes
/// (unclaimed accesses are dropped, bad values ignored or a typed protocol error fails the device). A finding: any
/// exception, or a function that cannot be brought up again.
/// </summary>
public sealed class PciTarget : FuzzTarget
{
    private static readonly int[] s_configSizes = [1, 2, 4];
    private static readonly int[] s_mmioSizes = [1, 2, 4, 8];

    /// <inheritdoc/>
    public override string Name => "pci";

    /// <inheritdoc/>
    public override void Run(ReadOnlySpan<byte> input)
    {
        // A fresh machine per input: MSI-X entries, BAR placement and registers an earlier input wrote would
        // otherwise steer this one, and afl needs an input to take the same path every time it runs.
        using var rig = new DeviceRig(CreateDevice, VirtioDeviceType.Input);
        PciBarInfo bar0 = rig.Driver.Function.GetBar(0);
        int device = rig.Driver.Function.Device;
        var pci = new PciEnumerator(rig.Machine);
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
                        rig.Machine.WriteMmio(bar0.Address + (reader.U32() % bar0.Size), mmioSize, reader.U32() | ((ulong)reader.U32() << 32));
                        break;
                    default:
                        rig.Machine.ReadMmio(bar0.Address + (reader.U32() % bar0.Size), mmioSize);
                        break;
                }
            }
        }
        catch (Exception exception) when (DeviceRig.IsExpected(exception))
        {
            // A typed protocol error from the transport.
        }

        rig.ThrowOnUnexpected();

        // Whatever the input did, the function comes back: BAR 0 where enumeration put it, decoding on, the device up.
        pci.WriteConfig(device, PciIds.CommandOffset, 2, 0);
        pci.WriteConfig(device, PciIds.Bar0Offset, 4, (uint)bar0.Address);
        pci.WriteConfig(device, PciIds.Bar0Offset + 4, 4, (uint)(bar0.Address >> 32));
        pci.Enable(device);
        rig.Reinitialize();
        rig.ThrowOnUnexpected();
    }

    private static IVirtioDevice CreateDevice(Microsoft.Extensions.Logging.ILoggerFactory log)
    {
        IDeviceFactory factory = new VirtioInputDeviceFactory();
        var context = new DeviceCreateContext("input0", log, null, new ServiceCollection().BuildServiceProvider(), Path.GetTempPath());
        return (IVirtioDevice)factory.Create(context, new VirtioInputOptions { Kind = "keyboard" });
    }
}

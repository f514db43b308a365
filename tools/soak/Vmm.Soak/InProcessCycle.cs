using Microsoft.Extensions.Logging;
using Vmm.Contracts.Virtio;
using Vmm.Core.Config;
using Vmm.Core.Control;
using Vmm.Core.Hosting;
using Vmm.Core.Plugins;
using Vmm.Core.Virtio.Pci;
using Vmm.Testing.Driver;
using Vmm.Testing.InProcess;

namespace Vmm.Soak;

/// <summary>
/// One cycle on the in-process machine (no vCPUs): the config's devices created from their plugins, put on PCI,
/// each brought up by the test driver as a Linux guest would (reset, features, MSI-X, every queue, DRIVER_OK), 16
/// bytes read from virtio-rng, every device reset, then the machine and the devices disposed.
/// </summary>
internal sealed class InProcessCycle(VmSpec spec, IPluginCatalog plugins, VmRouters routers, ILoggerFactory loggerFactory) : ISoakCycle
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(10);

    public string Name => "in-process machine (every device)";

    public void Run(int cycle)
    {
        VmRunContext context = new(loggerFactory, plugins, new ControlCommandRegistry()) { Routers = routers };
        using VmDeviceSet devices = VmDeviceSet.Create(spec, context);
        using InProcessMachine machine = new(loggerFactory: loggerFactory);
        Dictionary<VirtioDeviceType, int> instances = [];
        foreach ((_, IVirtioDevice device) in devices.VirtioDevices)
        {
            machine.AttachVirtioDevice(device);
            instances[device.DeviceType] = instances.GetValueOrDefault(device.DeviceType) + 1;
        }

        foreach ((_, Contracts.Pci.IPciDevice device) in devices.PciDevices)
        {
            machine.AttachPciDevice(device);
        }

        List<VirtioPciDriver> drivers = [];
        foreach ((VirtioDeviceType type, int count) in instances)
        {
            for (int i = 0; i < count; i++)
            {
                VirtioPciDriver driver = VirtioPciDriver.Open(machine, type, i);
                driver.Initialize();
                drivers.Add(driver);
            }
        }

        VirtioPciDriver rng = drivers.Single(d => d.Function.DeviceId == VirtioPciLayout.DeviceIdBase + (ushort)VirtioDeviceType.Entropy);
        var buffer = machine.AllocateBuffer(16);
        rng.Submit(0, [], [buffer]);
        (_, uint length) = rng.WaitForUsed(0, s_timeout);
        if (length != 16)
        {
            throw new SoakFailedException($"cycle {cycle}: virtio-rng returned {length} bytes, not 16");
        }

        foreach (VirtioPciDriver driver in drivers)
        {
            driver.Reset();
        }
    }
}

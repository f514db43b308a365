using Microsoft.Extensions.DependencyInjection;
using Vmm.Contracts.Devices;
using Vmm.Contracts.Virtio;
using Vmm.Fuzz.Harness;
using Vmm.Plugins.VirtioGpu;

namespace Vmm.Fuzz.Targets;

/// <summary>
/// The virtio-gpu control and cursor queues (2D, blob, context and cursor commands alike) through the plugin's
/// public factory with blob resources and a host-visible window, the in-process transport and driver. Expected:
/// error responses, a failed device on a typed protocol error. A finding: any other exception logged or thrown, or a hang.
/// </summary>
public sealed class VirtioGpuTarget : RequestStreamTarget
{
    /// <inheritdoc/>
    public override string Name => "virtio-gpu";

    /// <inheritdoc/>
    protected override DeviceRig CreateRig() => new(
        log =>
        {
            IDeviceFactory factory = new VirtioGpuDeviceFactory();
            var context = new DeviceCreateContext("gpu0", log, null, new ServiceCollection().BuildServiceProvider(), Path.GetTempPath());
            var options = new VirtioGpuOptions
            {
                ResourceBlob = true,
                HostVisibleWindowSize = 16UL << 20,
                MaxResourceBytes = 16L << 20,
                Scanouts = [new VirtioGpuModeOptions { Width = 64, Height = 48 }, new VirtioGpuModeOptions { Width = 32, Height = 32 }],
            };
            return (IVirtioDevice)factory.Create(context, options);
        },
        VirtioDeviceType.Gpu);
}

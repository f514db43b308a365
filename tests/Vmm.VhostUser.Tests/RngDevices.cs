using Microsoft.Extensions.Logging.Abstractions;
using Vmm.Contracts.Devices;
using Vmm.Contracts.Virtio;
using Vmm.Plugins.VirtioRng;
using Vmm.Testing.Devices;

namespace Vmm.VhostUser.Tests;

/// <summary>Builds the sample plugin's virtio-rng device the way the plugin host does, through its factory.</summary>
internal static class RngDevices
{
    public static IVirtioDevice FromFile(string path)
    {
        IDeviceFactory factory = new VirtioRngDeviceFactory();
        var options = new VirtioRngOptions { Source = VirtioRngOptions.FileSource, Path = path };
        var context = new DeviceCreateContext("rng0", NullLoggerFactory.Instance, null, EmptyServiceProvider.Instance, Path.GetTempPath());
        return (IVirtioDevice)factory.Create(context, options);
    }
}

using Microsoft.Extensions.DependencyInjection;
using Vmm.Contracts.Devices;
using Vmm.Contracts.Plugins;

namespace Vmm.Plugins.VirtioVsock;

/// <summary>The plugin's entry point, named in <c>vmm-plugin.json</c>: registers the virtio-vsock device factory.</summary>
public sealed class VirtioVsockPlugin : IVmmPlugin
{
    /// <inheritdoc />
    public void ConfigureServices(IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddSingleton<IDeviceFactory, VirtioVsockDeviceFactory>();
    }
}

using Microsoft.Extensions.DependencyInjection;
using Vmm.Contracts.Devices;
using Vmm.Contracts.Plugins;

namespace Vmm.Plugins.VirtioFs;

/// <summary>The plugin's entry point, named in <c>vmm-plugin.json</c>: registers the virtio-fs device factory.</summary>
public sealed class VirtioFsPlugin : IVmmPlugin
{
    /// <inheritdoc />
    public void ConfigureServices(IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddSingleton<IDeviceFactory, VirtioFsDeviceFactory>();
    }
}

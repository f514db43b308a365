using Microsoft.Extensions.DependencyInjection;
using Vmm.Contracts.Devices;
using Vmm.Contracts.Plugins;
using Vmm.Plugins.Ivshmem.Device;

namespace Vmm.Plugins.Ivshmem;

/// <summary>The plugin's entry point, named in <c>vmm-plugin.json</c>: registers the <c>ivshmem</c> device factory.</summary>
public sealed class IvshmemPlugin : IVmmPlugin
{
    /// <inheritdoc />
    public void ConfigureServices(IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddSingleton<IDeviceFactory, IvshmemDeviceFactory>();
    }
}

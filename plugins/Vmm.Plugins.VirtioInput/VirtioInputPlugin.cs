using Microsoft.Extensions.DependencyInjection;
using Vmm.Contracts.Devices;
using Vmm.Contracts.Plugins;

namespace Vmm.Plugins.VirtioInput;

/// <summary>The plugin's entry point, named in <c>vmm-plugin.json</c>: registers the virtio-input device factory.</summary>
public sealed class VirtioInputPlugin : IVmmPlugin
{
    /// <inheritdoc />
    public void ConfigureServices(IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddSingleton<IDeviceFactory, VirtioInputDeviceFactory>();
    }
}

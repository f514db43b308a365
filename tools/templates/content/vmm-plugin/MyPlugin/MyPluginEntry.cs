using Microsoft.Extensions.DependencyInjection;
using Vmm.Contracts.Devices;
using Vmm.Contracts.Plugins;

namespace MyPlugin;

/// <summary>The plugin's entry point, named in vmm-plugin.json: registers one factory per declared device type.</summary>
public sealed class MyPluginEntry : IVmmPlugin
{
    /// <inheritdoc />
    public void ConfigureServices(IServiceCollection services)
        => services.AddSingleton<IDeviceFactory, MyDeviceFactory>();
}

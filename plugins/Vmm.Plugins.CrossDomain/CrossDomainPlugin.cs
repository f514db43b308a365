using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Vmm.Contracts.Devices;
using Vmm.Contracts.Gpu;
using Vmm.Contracts.Plugins;

namespace Vmm.Plugins.CrossDomain;

/// <summary>
/// The plugin's entry point, named in <c>vmm-plugin.json</c>: registers the cross-domain context type (capset 5)
/// that virtio-gpu offers, and the <c>cross-domain</c> device type whose options choose the host display sockets.
/// </summary>
public sealed class CrossDomainPlugin : IVmmPlugin
{
    /// <inheritdoc />
    public void ConfigureServices(IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddSingleton(_ => CrossDomainSettings.FromEnvironment());
        services.AddSingleton<IGpuContextType>(provider => new CrossDomainContextType(
            provider.GetRequiredService<CrossDomainSettings>(),
            provider.GetService<ILoggerFactory>()));
        services.AddSingleton<IDeviceFactory, CrossDomainDeviceFactory>();
    }
}

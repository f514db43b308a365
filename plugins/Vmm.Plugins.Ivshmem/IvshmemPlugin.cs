using Microsoft.Extensions.DependencyInjection;
using Vmm.Contracts.Devices;
using Vmm.Contracts.Plugins;
using Vmm.Plugins.Ivshmem.Device;
using Vmm.Plugins.Ivshmem.Display;

namespace Vmm.Plugins.Ivshmem;

/// <summary>The plugin's entry point, named in <c>vmm-plugin.json</c>: registers the <c>ivshmem</c> device (a capture display source too) and the <c>kvmfr-export</c> display sink.</summary>
public sealed class IvshmemPlugin : IVmmPlugin
{
    /// <inheritdoc />
    public void ConfigureServices(IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddSingleton<IDeviceFactory, IvshmemDeviceFactory>();
        services.AddSingleton<IDeviceFactory, KvmfrExportSinkFactory>();
    }
}

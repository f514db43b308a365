using Microsoft.Extensions.DependencyInjection;

namespace Vmm.Contracts.Plugins;

/// <summary>
/// The entry point of a plugin. The host creates one instance (public parameterless constructor) of the type the
/// manifest names and asks it to register its services: device factories (<see cref="Devices.IDeviceFactory"/>),
/// virtio-gpu context types (<see cref="Gpu.IGpuContextType"/>) and anything they need.
/// </summary>
/// <remarks>
/// The collection is pre-filled with the host's shared services (logging, metrics, the display and input routers),
/// so a plugin can depend on them. Each plugin gets its own container so it can be unloaded on its own.
/// </remarks>
public interface IVmmPlugin
{
    /// <summary>Registers the plugin's services.</summary>
    void ConfigureServices(IServiceCollection services);
}

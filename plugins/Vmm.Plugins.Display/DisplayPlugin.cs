using Microsoft.Extensions.DependencyInjection;
using Vmm.Contracts.Devices;
using Vmm.Contracts.Plugins;
using Vmm.Plugins.Display.Png;
using Vmm.Plugins.Display.TestPattern;
using Vmm.Plugins.Display.Vnc;

namespace Vmm.Plugins.Display;

/// <summary>The plugin's entry point, named in <c>vmm-plugin.json</c>: registers the PNG and VNC sink factories and the test-pattern source factory.</summary>
public sealed class DisplayPlugin : IVmmPlugin
{
    /// <inheritdoc />
    public void ConfigureServices(IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddSingleton<IDeviceFactory, PngSinkFactory>();
        services.AddSingleton<IDeviceFactory, VncSinkFactory>();
        services.AddSingleton<IDeviceFactory, TestPatternSourceFactory>();
    }
}

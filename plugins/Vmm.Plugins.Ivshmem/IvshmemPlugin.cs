using Microsoft.Extensions.DependencyInjection;
using Vmm.Contracts.Plugins;

namespace Vmm.Plugins.Ivshmem;

/// <summary>The plugin's entry point, named in <c>vmm-plugin.json</c>.</summary>
public sealed class IvshmemPlugin : IVmmPlugin
{
    /// <inheritdoc />
    public void ConfigureServices(IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
    }
}

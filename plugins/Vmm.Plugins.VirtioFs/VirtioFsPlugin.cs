using Microsoft.Extensions.DependencyInjection;
using Vmm.Contracts.Devices;
using Vmm.Contracts.Files;
using Vmm.Contracts.Plugins;

namespace Vmm.Plugins.VirtioFs;

/// <summary>
/// The plugin's entry point, named in <c>vmm-plugin.json</c>: registers the virtio-fs device factory and the export
/// table its devices share, offered to other plugins as <see cref="IFileExportTable"/>.
/// </summary>
public sealed class VirtioFsPlugin : IVmmPlugin
{
    /// <inheritdoc />
    public void ConfigureServices(IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddSingleton<IDeviceFactory, VirtioFsDeviceFactory>();
        services.AddSingleton<FileExportTable>();
        services.AddSingleton<IFileExportTable>(provider => provider.GetRequiredService<FileExportTable>());
    }
}

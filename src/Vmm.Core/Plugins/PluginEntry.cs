using Microsoft.Extensions.DependencyInjection;
using Vmm.Contracts.Devices;

namespace Vmm.Core.Plugins;

/// <summary>What the host knows about one plugin folder. Guarded by the host's lock.</summary>
internal sealed class PluginEntry
{
    public PluginEntry(string name, string directory, PluginManifest? manifest)
    {
        Name = name;
        Directory = directory;
        Manifest = manifest;
    }

    public string Name { get; }

    public string Directory { get; }

    /// <summary>Null when the manifest could not be read (then <see cref="Failure"/> says why).</summary>
    public PluginManifest? Manifest { get; set; }

    public PluginLoadStatus Status { get; set; } = PluginLoadStatus.Discovered;

    public PluginLoadException? Failure { get; set; }

    public PluginLoadContext? LoadContext { get; set; }

    public ServiceProvider? Services { get; set; }

    public Dictionary<string, IDeviceFactory> Factories { get; } = new(StringComparer.Ordinal);

    public PluginInfo ToInfo() => new(
        Name,
        Manifest?.Version ?? string.Empty,
        Manifest is null ? string.Empty : $"{Manifest.ContractVersion.Major}.{Manifest.ContractVersion.Minor}",
        Manifest?.DeviceTypes ?? [],
        Directory,
        Status,
        Status == PluginLoadStatus.Failed ? Failure?.Message : null);
}

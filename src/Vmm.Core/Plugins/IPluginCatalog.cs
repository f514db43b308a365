using System.Diagnostics.CodeAnalysis;
using Vmm.Contracts.Devices;

namespace Vmm.Core.Plugins;

/// <summary>The plugins a host found, and the device factories of those that loaded.</summary>
public interface IPluginCatalog
{
    /// <summary>Every plugin found, loaded or not, in discovery order.</summary>
    IReadOnlyList<PluginInfo> Plugins { get; }

    /// <summary>Finds the factory for <paramref name="deviceType"/> in the loaded plugin <paramref name="pluginName"/>.</summary>
    bool TryGetFactory(string pluginName, string deviceType, [NotNullWhen(true)] out IDeviceFactory? factory);
}

/// <summary>Whether a plugin loaded.</summary>
public enum PluginLoadStatus
{
    /// <summary>Its manifest was read; it was not loaded yet.</summary>
    Discovered,

    /// <summary>Loaded and registered.</summary>
    Loaded,

    /// <summary>Failed to load; <see cref="PluginInfo.Error"/> says why.</summary>
    Failed,

    /// <summary>Loaded once, then unloaded.</summary>
    Unloaded,
}

/// <summary>What <c>vmm plugins list</c> shows for one plugin.</summary>
/// <param name="Name">The plugin's name from its manifest.</param>
/// <param name="Version">The plugin's own version.</param>
/// <param name="ContractVersion">The contract version it targets.</param>
/// <param name="DeviceTypes">The device types its manifest declares.</param>
/// <param name="Directory">The folder it was found in.</param>
/// <param name="Status">Whether it loaded.</param>
/// <param name="Error">Why it failed, naming the plugin; null unless <paramref name="Status"/> is Failed.</param>
public sealed record PluginInfo(
    string Name,
    string Version,
    string ContractVersion,
    IReadOnlyList<string> DeviceTypes,
    string Directory,
    PluginLoadStatus Status,
    string? Error);

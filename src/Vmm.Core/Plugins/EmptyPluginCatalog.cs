using System.Diagnostics.CodeAnalysis;
using Vmm.Contracts.Devices;

namespace Vmm.Core.Plugins;

/// <summary>A catalog with no plugins, for hosts that build a VM from a spec whose factories they already hold.</summary>
public sealed class EmptyPluginCatalog : IPluginCatalog
{
    /// <summary>The one instance.</summary>
    public static EmptyPluginCatalog Instance { get; } = new();

    private EmptyPluginCatalog()
    {
    }

    /// <inheritdoc />
    public IReadOnlyList<PluginInfo> Plugins => [];

    /// <inheritdoc />
    public bool TryGetFactory(string pluginName, string deviceType, [NotNullWhen(true)] out IDeviceFactory? factory)
    {
        factory = null;
        return false;
    }
}

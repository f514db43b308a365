using System.Diagnostics.CodeAnalysis;
using Vmm.Contracts.Devices;
using Vmm.Core.Plugins;

namespace Vmm.Core.Tests.Config;

/// <summary>A plugin catalog with plugins and factories added by hand.</summary>
internal sealed class FakePluginCatalog : IPluginCatalog
{
    private readonly List<PluginInfo> _plugins = [];
    private readonly Dictionary<(string Plugin, string Type), IDeviceFactory> _factories = [];

    public IReadOnlyList<PluginInfo> Plugins => _plugins;

    /// <summary>The catalog most tests use: a loaded "fake" plugin with the "fake-dev" device type.</summary>
    public static FakePluginCatalog WithFakeDevice() => new FakePluginCatalog().AddLoaded("fake", new FakeDeviceFactory());

    public FakePluginCatalog AddLoaded(string name, params IDeviceFactory[] factories)
    {
        _plugins.Add(new PluginInfo(name, "1.2.3", "1.0", factories.Select(f => f.DeviceType).ToArray(), "/plugins/" + name, PluginLoadStatus.Loaded, null));
        foreach (IDeviceFactory factory in factories)
        {
            _factories[(name, factory.DeviceType)] = factory;
        }

        return this;
    }

    public FakePluginCatalog AddFailed(string name, string error)
    {
        _plugins.Add(new PluginInfo(name, "0.1.0", "9.0", ["broken-dev"], "/plugins/" + name, PluginLoadStatus.Failed, error));
        return this;
    }

    public bool TryGetFactory(string pluginName, string deviceType, [NotNullWhen(true)] out IDeviceFactory? factory) =>
        _factories.TryGetValue((pluginName, deviceType), out factory);
}

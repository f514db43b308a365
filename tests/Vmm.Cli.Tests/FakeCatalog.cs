using System.Diagnostics.CodeAnalysis;
using Vmm.Contracts.Devices;
using Vmm.Core.Plugins;

namespace Vmm.Cli.Tests;

internal sealed class FakeCatalog : IPluginCatalog
{
    private readonly List<PluginInfo> _plugins = [];
    private readonly Dictionary<(string, string), IDeviceFactory> _factories = [];

    public IReadOnlyList<PluginInfo> Plugins => _plugins;

    public static FakeCatalog WithFakeDevice() => new FakeCatalog().AddLoaded("fake", new FakeFactory());

    public FakeCatalog AddLoaded(string name, IDeviceFactory factory)
    {
        _plugins.Add(new PluginInfo(name, "1.2.3", "1.0", [factory.DeviceType], "/plugins/" + name, PluginLoadStatus.Loaded, null));
        _factories[(name, factory.DeviceType)] = factory;
        return this;
    }

    public FakeCatalog AddFailed(string name, string error)
    {
        _plugins.Add(new PluginInfo(name, "0.1.0", "9.0", ["broken-dev"], "/plugins/" + name, PluginLoadStatus.Failed, error));
        return this;
    }

    public bool TryGetFactory(string pluginName, string deviceType, [NotNullWhen(true)] out IDeviceFactory? factory) =>
        _factories.TryGetValue((pluginName, deviceType), out factory);
}

internal sealed class FakeFactory : DeviceFactory<FakeOptions>
{
    public override string DeviceType => "fake-dev";

    public override string Description => "A device for CLI tests.";

    protected override IDevice Create(DeviceCreateContext context, FakeOptions options) => throw new NotSupportedException();
}

internal sealed class FakeOptions
{
    public int Rate { get; set; }
}

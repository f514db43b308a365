using Microsoft.Extensions.Logging.Abstractions;
using Vmm.Core.Hosting;
using Vmm.Core.Plugins;
using Xunit;

namespace Vmm.Cli.Tests;

/// <summary>
/// A VM loads only the plugins its devices name (start-up does not pay for the others), and the others stay listed
/// as discovered, so an unknown plugin name still gets the list of known ones.
/// </summary>
public sealed class PluginLoadingTests
{
    private static readonly string s_builtIn = Path.Combine(AppContext.BaseDirectory, "plugins");

    [Fact]
    public void Named_plugins_load_and_the_others_are_only_discovered()
    {
        using VmRouters routers = new();
        using PluginHost host = (PluginHost)PluginLoading.Load([], [s_builtIn], ["virtio-rng"], reloadable: false, NullLoggerFactory.Instance, routers.SharedServices);

        PluginInfo rng = Assert.Single(host.Plugins, p => p.Name == "virtio-rng");
        Assert.Equal(PluginLoadStatus.Loaded, rng.Status);
        Assert.True(host.Plugins.Count > 1, "the other built-in plugins are listed");
        Assert.All(host.Plugins.Where(p => p.Name != "virtio-rng"), p => Assert.Equal(PluginLoadStatus.Discovered, p.Status));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Plugins_load_into_collectible_contexts_only_when_reloadable(bool reloadable)
    {
        using VmRouters routers = new();
        using PluginHost host = (PluginHost)PluginLoading.Load([], [s_builtIn], ["virtio-rng"], reloadable, NullLoggerFactory.Instance, routers.SharedServices);

        Assert.True(host.TryGetFactory("virtio-rng", "virtio-rng", out Vmm.Contracts.Devices.IDeviceFactory? factory));
        Assert.Equal(reloadable, host.CanReload);
        Assert.Equal(reloadable, System.Runtime.Loader.AssemblyLoadContext.GetLoadContext(factory.GetType().Assembly)!.IsCollectible);
    }

    [Fact]
    public void No_named_plugin_reads_no_manifest()
    {
        using VmRouters routers = new();
        using PluginHost host = (PluginHost)PluginLoading.Load([], [s_builtIn], [], reloadable: false, NullLoggerFactory.Instance, routers.SharedServices);

        Assert.Empty(host.Plugins);
    }

    [Fact]
    public void Without_a_list_every_plugin_loads()
    {
        using VmRouters routers = new();
        using PluginHost host = (PluginHost)PluginLoading.Load([], [s_builtIn], null, reloadable: true, NullLoggerFactory.Instance, routers.SharedServices);

        Assert.NotEmpty(host.Plugins);
        Assert.All(host.Plugins, p => Assert.Equal(PluginLoadStatus.Loaded, p.Status));
    }
}

using System.Runtime.Loader;
using Vmm.Contracts.Devices;
using Vmm.Core.Plugins;

namespace Vmm.Plugins.VirtioRng.Tests;

public sealed class PluginHostTests
{
    [Fact]
    public void Discover_reads_the_manifest_of_the_built_plugin()
    {
        using PluginHost host = TestPlugins.CreateHost(TestPlugins.VirtioRng);

        PluginInfo info = Assert.Single(host.Discover());

        Assert.Equal("virtio-rng", info.Name);
        Assert.Equal("1.0.0", info.Version);
        Assert.Equal("2.2", info.ContractVersion);
        Assert.Equal(["virtio-rng"], info.DeviceTypes);
        Assert.Equal(Path.GetFullPath(TestPlugins.VirtioRng), info.Directory);
        Assert.Equal(PluginLoadStatus.Discovered, info.Status);
        Assert.Null(info.Error);
    }

    [Fact]
    public void A_search_path_of_plugin_folders_finds_each_one_in_order()
    {
        using PluginHost host = TestPlugins.CreateHost(TestPlugins.Fixtures);

        IReadOnlyList<PluginInfo> plugins = host.Discover();

        Assert.Equal(["future-contract", "missing-dependency", "throwing", "undeclared-device"], plugins.Select(p => p.Name));
    }

    [Fact]
    public void LoadAll_loads_the_plugin_and_its_factory()
    {
        using PluginHost host = TestPlugins.CreateHost(TestPlugins.VirtioRng);

        IDeviceFactory factory = TestPlugins.LoadRngFactory(host);

        Assert.Equal(PluginLoadStatus.Loaded, Assert.Single(host.Plugins).Status);
        Assert.Equal("virtio-rng", factory.DeviceType);
        Assert.False(string.IsNullOrWhiteSpace(factory.Description));
        Assert.True(host.TryFindFactory("virtio-rng", out IDeviceFactory? found, out string? pluginName));
        Assert.Same(factory, found);
        Assert.Equal("virtio-rng", pluginName);
        Assert.False(host.TryGetFactory("virtio-rng", "virtio-gpu", out _));
        Assert.False(host.TryGetFactory("other", "virtio-rng", out _));
    }

    [Fact]
    public void The_factory_crosses_the_load_context_boundary_as_the_hosts_contract_type()
    {
        using PluginHost host = TestPlugins.CreateHost(TestPlugins.VirtioRng);

        IDeviceFactory factory = TestPlugins.LoadRngFactory(host);

        Type factoryType = factory.GetType();
        AssemblyLoadContext? pluginContext = AssemblyLoadContext.GetLoadContext(factoryType.Assembly);
        Assert.NotNull(pluginContext);
        Assert.NotSame(AssemblyLoadContext.Default, pluginContext);
        Assert.True(pluginContext.IsCollectible);
        Assert.Same(AssemblyLoadContext.Default, AssemblyLoadContext.GetLoadContext(typeof(IDeviceFactory).Assembly));
        Assert.Contains(typeof(IDeviceFactory), factoryType.GetInterfaces());
        Assert.Same(typeof(IDeviceFactory).Assembly, factoryType.BaseType!.Assembly);
        Assert.Same(typeof(IDeviceFactory).Assembly, pluginContext.LoadFromAssemblyName(typeof(IDeviceFactory).Assembly.GetName()));
    }

    [Fact]
    public void Unload_disposes_the_plugin_and_forgets_its_factories()
    {
        using PluginHost host = TestPlugins.CreateHost(TestPlugins.VirtioRng);
        TestPlugins.LoadRngFactory(host);

        host.Unload("virtio-rng");

        Assert.Equal(PluginLoadStatus.Unloaded, Assert.Single(host.Plugins).Status);
        Assert.False(host.TryGetFactory("virtio-rng", "virtio-rng", out _));
        Assert.False(host.TryGetServices("virtio-rng", out _));
    }

    [Fact]
    public void An_unloaded_plugin_loads_again_into_a_new_context()
    {
        using PluginHost host = TestPlugins.CreateHost(TestPlugins.VirtioRng);
        IDeviceFactory first = TestPlugins.LoadRngFactory(host);
        host.Unload("virtio-rng");

        PluginInfo info = host.Load("virtio-rng");

        Assert.Equal(PluginLoadStatus.Loaded, info.Status);
        Assert.True(host.TryGetFactory("virtio-rng", "virtio-rng", out IDeviceFactory? second));
        Assert.NotSame(first.GetType(), second.GetType());
    }

    [Fact]
    public void Shared_services_reach_the_plugins_container()
    {
        var options = new PluginHostOptions();
        options.SearchPaths.Add(TestPlugins.VirtioRng);
        TimeProvider shared = TimeProvider.System;
        options.SharedServices.Add(Microsoft.Extensions.DependencyInjection.ServiceDescriptor.Singleton(shared));
        using var host = new PluginHost(options);
        host.LoadAll();

        Assert.True(host.TryGetServices("virtio-rng", out IServiceProvider? services));

        Assert.Same(shared, services.GetService(typeof(TimeProvider)));
        Assert.NotNull(services.GetService(typeof(Microsoft.Extensions.Logging.ILoggerFactory)));
    }
}

using System.Reflection;
using Vmm.Contracts.Devices;
using Vmm.Core.Plugins;

namespace Vmm.Plugins.VirtioRng.Tests;

public sealed class PluginLoadContextTests
{
    private static string RngAssembly => Path.Combine(TestPlugins.VirtioRng, "Vmm.Plugins.VirtioRng.dll");

    [Fact]
    public void A_shared_assembly_comes_from_the_host()
    {
        var context = new PluginLoadContext("virtio-rng", RngAssembly);
        try
        {
            Assembly contracts = context.LoadFromAssemblyName(new AssemblyName("Vmm.Contracts, Version=1.0.0.0"));

            Assert.Same(typeof(IDeviceFactory).Assembly, contracts);
        }
        finally
        {
            context.Unload();
        }
    }

    [Fact]
    public void A_shared_assembly_newer_than_the_hosts_fails_loudly()
    {
        var context = new PluginLoadContext("virtio-rng", RngAssembly);
        try
        {
            FileLoadException e = Assert.Throws<FileLoadException>(
                () => context.LoadFromAssemblyName(new AssemblyName("Vmm.Contracts, Version=9.0.0.0")));

            // The runtime wraps what Load throws; the plugin host reports the inner message.
            Assert.Contains("Plugin 'virtio-rng' was built against 'Vmm.Contracts' 9.0.0.0, newer than the host's 1.0.0.0", e.InnerException?.Message, StringComparison.Ordinal);
        }
        finally
        {
            context.Unload();
        }
    }

    [Fact]
    public void A_host_assembly_that_is_not_shared_is_not_handed_to_the_plugin()
    {
        var context = new PluginLoadContext("virtio-rng", RngAssembly);
        try
        {
            FileNotFoundException e = Assert.Throws<FileNotFoundException>(
                () => context.LoadFromAssemblyName(typeof(PluginHost).Assembly.GetName()));

            Assert.Contains("Plugin 'virtio-rng' needs 'Vmm.Core", e.InnerException?.Message, StringComparison.Ordinal);
        }
        finally
        {
            context.Unload();
        }
    }

    [Fact]
    public void The_path_must_be_absolute()
        => Assert.Throws<ArgumentException>(() => new PluginLoadContext("x", "relative/plugin.dll"));
}

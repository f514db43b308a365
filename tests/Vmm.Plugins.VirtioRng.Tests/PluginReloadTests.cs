using System.Runtime.CompilerServices;
using System.Runtime.Loader;
using Vmm.Contracts.Devices;
using Vmm.Core.Plugins;

namespace Vmm.Plugins.VirtioRng.Tests;

public sealed class PluginReloadTests
{
    [Fact]
    public void Reload_loads_the_folder_as_it_is_now_and_the_old_context_is_collected()
    {
        using var folder = new TempPluginFolder();
        string copy = folder.AddCopy(TestPlugins.VirtioRng, "virtio-rng");
        using PluginHost host = TestPlugins.CreateHost(folder.Path);
        host.LoadAll();

        WeakReference oldContext = ReloadNewBuild(host, copy);

        for (int i = 0; i < 10 && oldContext.IsAlive; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }

        Assert.False(oldContext.IsAlive, "The plugin's first load context is still referenced after the reload.");
    }

    [Fact]
    public void A_reload_whose_new_build_is_broken_marks_the_plugin_failed_naming_it()
    {
        using var folder = new TempPluginFolder();
        string copy = folder.AddCopy(TestPlugins.VirtioRng, "virtio-rng");
        using PluginHost host = TestPlugins.CreateHost(folder.Path);
        host.LoadAll();
        File.WriteAllText(Path.Combine(copy, "Vmm.Plugins.VirtioRng.dll"), "not an assembly");

        PluginLoadException e = Assert.Throws<PluginLoadException>(() => host.Reload("virtio-rng"));

        Assert.Contains("Plugin 'virtio-rng' has an assembly that is not a valid .NET assembly", e.Message, StringComparison.Ordinal);
        Assert.Equal(PluginLoadStatus.Failed, Assert.Single(host.Plugins).Status);
        Assert.False(host.TryGetFactory("virtio-rng", "virtio-rng", out _));
    }

    /// <summary>Copies a "new build" over the loaded one, reloads, checks it, and returns the first context weakly.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference ReloadNewBuild(PluginHost host, string copy)
    {
        Assert.True(host.TryGetFactory("virtio-rng", "virtio-rng", out IDeviceFactory? first));
        var oldContext = new WeakReference(AssemblyLoadContext.GetLoadContext(first.GetType().Assembly), trackResurrection: true);
        first = null;

        // The assembly copied over the loaded one (it was read into memory, not mapped) and a new version.
        File.Copy(Path.Combine(TestPlugins.VirtioRng, "Vmm.Plugins.VirtioRng.dll"), Path.Combine(copy, "Vmm.Plugins.VirtioRng.dll"), overwrite: true);
        string manifest = Path.Combine(copy, "vmm-plugin.json");
        File.WriteAllText(manifest, File.ReadAllText(manifest).Replace("\"version\": \"1.0.0\"", "\"version\": \"1.0.1\"", StringComparison.Ordinal));

        PluginInfo info = host.Reload("virtio-rng");

        Assert.Equal(PluginLoadStatus.Loaded, info.Status);
        Assert.Equal("1.0.1", info.Version);
        Assert.True(host.TryGetFactory("virtio-rng", "virtio-rng", out IDeviceFactory? second));
        Assert.NotSame(oldContext.Target, AssemblyLoadContext.GetLoadContext(second.GetType().Assembly));
        return oldContext;
    }
}

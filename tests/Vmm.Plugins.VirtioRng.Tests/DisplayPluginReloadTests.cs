using System.Runtime.CompilerServices;
using System.Runtime.Loader;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using Vmm.Contracts.Devices;
using Vmm.Contracts.Display;
using Vmm.Core.Config;
using Vmm.Core.Control;
using Vmm.Core.Hosting;
using Vmm.Core.Plugins;

namespace Vmm.Plugins.VirtioRng.Tests;

/// <summary>
/// A running VM's display plugin unloaded and loaded again from a new build through the control API
/// (<c>plugins-reload</c>, what <c>vmm ctl plugins reload</c> sends): its sources and sinks come back as they were,
/// the old build's load context is collected, and a plugin with a device on the guest's bus is refused.
/// </summary>
public sealed class DisplayPluginReloadTests
{
    [Fact]
    public void The_display_plugin_reloads_with_its_sources_and_sinks_and_the_old_build_is_collected()
    {
        using var folder = new TempPluginFolder();
        string display = folder.AddCopy(Path.Combine(TestPlugins.Root, "display"), "display");
        folder.AddCopy(TestPlugins.VirtioRng, "virtio-rng");
        using var routers = new VmRouters();
        using PluginHost host = LoadPlugins(folder.Path, routers);
        var commands = new ControlCommandRegistry();
        using VmDeviceSet devices = CreateDevices(host, routers, commands);

        (WeakReference oldBuild, JsonNode? result) = ReloadNewBuild(devices, commands, display);

        Assert.Equal("1.0.1", (string?)result!["version"]);
        Assert.Equal(["pattern0", "png0", "png1"], result["devices"]!.AsArray().Select(n => (string?)n));
        Assert.Equal("pattern0", routers.Display.ActiveSourceId);
        Assert.Equal(["png0"], routers.Display.SinkIds);
        Assert.Equal(["png0", "png1"], routers.Display.Sinks.Select(s => s.Id));
        for (int i = 0; i < 10 && oldBuild.IsAlive; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }

        Assert.False(oldBuild.IsAlive, "The display plugin's first build is still referenced after the reload.");
    }

    [Fact]
    public async Task A_plugin_with_a_device_on_the_guests_bus_is_not_reloaded()
    {
        using var folder = new TempPluginFolder();
        folder.AddCopy(Path.Combine(TestPlugins.Root, "display"), "display");
        folder.AddCopy(TestPlugins.VirtioRng, "virtio-rng");
        using var routers = new VmRouters();
        using PluginHost host = LoadPlugins(folder.Path, routers);
        var commands = new ControlCommandRegistry();
        using VmDeviceSet devices = CreateDevices(host, routers, commands);
        Assert.True(commands.TryGet("plugins-reload", out IControlCommand? reload));

        ControlCommandException e = await Assert.ThrowsAsync<ControlCommandException>(() => Execute(reload, """{ "name": "virtio-rng" }"""));

        Assert.Equal(VmDeviceSet.OnTheBusCode, e.Code);
        Assert.Contains("plugin 'virtio-rng' provides 'rng0' (virtio-rng), a device on the guest's bus", e.Message, StringComparison.Ordinal);
        Assert.Equal(PluginLoadStatus.Loaded, host.Plugins.Single(p => p.Name == "virtio-rng").Status);
    }

    [Fact]
    public async Task A_vm_whose_plugins_were_loaded_for_good_refuses_every_reload()
    {
        using var folder = new TempPluginFolder();
        folder.AddCopy(Path.Combine(TestPlugins.Root, "display"), "display");
        folder.AddCopy(TestPlugins.VirtioRng, "virtio-rng");
        using var routers = new VmRouters();
        using PluginHost host = LoadPlugins(folder.Path, routers, unloadable: false);
        var commands = new ControlCommandRegistry();
        using VmDeviceSet devices = CreateDevices(host, routers, commands);
        Assert.True(commands.TryGet("plugins-reload", out IControlCommand? reload));

        ControlCommandException e = await Assert.ThrowsAsync<ControlCommandException>(() => Execute(reload, """{ "name": "display" }"""));

        Assert.Equal(VmDeviceSet.NotReloadableCode, e.Code);
        Assert.Contains("cannot be unloaded", e.Message, StringComparison.Ordinal);
        Assert.Equal(PluginLoadStatus.Loaded, host.Plugins.Single(p => p.Name == "display").Status);
        Assert.Equal(["pattern0"], routers.Display.Sources.Select(s => s.Id));
    }

    private static async Task<JsonNode?> Execute(IControlCommand command, string json)
    {
        using JsonDocument args = JsonDocument.Parse(json);
        return await command.ExecuteAsync(args.RootElement, CancellationToken.None);
    }

    private static PluginHost LoadPlugins(string searchPath, VmRouters routers, bool unloadable = true)
    {
        var options = new PluginHostOptions { Unloadable = unloadable };
        options.SearchPaths.Add(searchPath);
        foreach (var service in routers.SharedServices)
        {
            options.SharedServices.Add(service);
        }

        var host = new PluginHost(options);
        host.LoadAll();
        return host;
    }

    /// <summary>A config's test-pattern source, PNG sink and entropy device, and a PNG sink added while the VM runs, detached.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static VmDeviceSet CreateDevices(PluginHost host, VmRouters routers, ControlCommandRegistry commands)
    {
        var spec = new VmSpec(
            new MachineSpec(64 << 20, 1, null, null, "console=ttyS0"),
            PlatformKind.Auto,
            [
                Device(host, "pattern0", "display", "display-test-pattern", """{ "width": 64, "height": 48 }""", 0),
                Device(host, "png0", "display", "display-png", "{}", 1),
                Device(host, "rng0", "virtio-rng", "virtio-rng", "{}", 2),
            ],
            null,
            null,
            "/");
        var context = new VmRunContext(NullLoggerFactory.Instance, host, commands) { Routers = routers };
        VmDeviceSet devices = VmDeviceSet.Create(spec, context);
        devices.RuntimeSinks!.Add("display-png", "png1", default, attach: false);
        return devices;
    }

    private static DeviceSpec Device(PluginHost host, string id, string plugin, string type, string options, int index)
    {
        Assert.True(host.TryGetFactory(plugin, type, out IDeviceFactory? factory));
        object read = JsonSerializer.Deserialize(options, factory.OptionsType, DeviceOptionsSerializer.For(factory.OptionsType))!;
        return new DeviceSpec(id, plugin, type, read, factory, $"$.devices[{index}]");
    }

    /// <summary>Copies a "new build" over the running one, sends <c>plugins-reload</c>, and returns the first build weakly.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static (WeakReference OldBuild, JsonNode? Result) ReloadNewBuild(VmDeviceSet devices, ControlCommandRegistry commands, string display)
    {
        var oldBuild = new WeakReference(AssemblyLoadContext.GetLoadContext(devices.Devices[0].Device.GetType().Assembly), trackResurrection: true);

        // The manifest of the new build says so (the assemblies were read into memory, not mapped, so they may be replaced too).
        string manifest = Path.Combine(display, "vmm-plugin.json");
        File.WriteAllText(manifest, File.ReadAllText(manifest).Replace("\"version\": \"1.0.0\"", "\"version\": \"1.0.1\"", StringComparison.Ordinal));
        Assert.True(commands.TryGet("plugins-reload", out IControlCommand? reload));
        JsonNode? result = Execute(reload, """{ "name": "display" }""").GetAwaiter().GetResult();

        Assert.NotSame(oldBuild.Target, AssemblyLoadContext.GetLoadContext(devices.Devices[0].Device.GetType().Assembly));
        return (oldBuild, result);
    }
}

using System.Diagnostics.Metrics;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Vmm.Contracts.Devices;
using Vmm.Contracts.Virtio;
using Vmm.Core.Plugins;

namespace Vmm.Plugins.VirtioRng.Tests;

/// <summary>Where the build put the plugins (PluginOutputs.targets), and how the tests load them.</summary>
internal static class TestPlugins
{
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web)
    {
        UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow,
    };

    public static string Root => Path.Combine(AppContext.BaseDirectory, "plugins");

    public static string VirtioRng => Path.Combine(Root, "virtio-rng");

    public static string Fixtures => Path.Combine(Root, "fixtures");

    public static string Fixture(string name) => Path.Combine(Fixtures, name);

    public static PluginHost CreateHost(params string[] searchPaths) => CreateHost(searchPaths, []);

    public static PluginHost CreateHost(string[] searchPaths, string[] optional)
    {
        var options = new PluginHostOptions();
        foreach (string path in searchPaths)
        {
            options.SearchPaths.Add(path);
        }

        foreach (string name in optional)
        {
            options.OptionalPlugins.Add(name);
        }

        return new PluginHost(options);
    }

    public static IDeviceFactory LoadRngFactory(PluginHost host)
    {
        host.LoadAll();
        Assert.True(host.TryGetFactory("virtio-rng", "virtio-rng", out IDeviceFactory? factory));
        return factory;
    }

    public static object ReadOptions(IDeviceFactory factory, string json)
        => JsonSerializer.Deserialize(json, factory.OptionsType, s_json)!;

    public static IReadOnlyList<(string Path, string Message)> Validate(IDeviceFactory factory, string json, string baseDirectory = "/")
    {
        var context = new DeviceOptionsValidationContext("$.devices[0].options", baseDirectory);
        factory.Validate(ReadOptions(factory, json), context);
        return context.Errors;
    }

    public static IVirtioDevice CreateDevice(PluginHost host, IDeviceFactory factory, string json, IMeterFactory? meterFactory = null)
    {
        object options = ReadOptions(factory, json);
        var validation = new DeviceOptionsValidationContext("$.devices[0].options", "/");
        factory.Validate(options, validation);
        Assert.Empty(validation.Errors);
        Assert.True(host.TryGetServices("virtio-rng", out IServiceProvider? services));
        var context = new DeviceCreateContext("rng0", NullLoggerFactory.Instance, meterFactory, services, "/");
        return Assert.IsAssignableFrom<IVirtioDevice>(factory.Create(context, options));
    }
}

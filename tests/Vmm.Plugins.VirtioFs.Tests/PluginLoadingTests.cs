using System.Runtime.Loader;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Vmm.Contracts.Devices;
using Vmm.Contracts.Virtio;
using Vmm.Core.Plugins;
using Vmm.Testing.Devices;

namespace Vmm.Plugins.VirtioFs.Tests;

/// <summary>The plugin as a user installs it: loaded by the plugin host into its own load context, options from JSON.</summary>
public sealed class PluginLoadingTests : IDisposable
{
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web)
    {
        UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow,
    };

    private readonly TempShare _share = new();

    public void Dispose() => _share.Dispose();

    [Fact]
    public void ThePluginHostLoadsTheDeviceAndItServesTheShare()
    {
        File.WriteAllText(_share.InShare("a.txt"), "through the plugin host");
        var options = new PluginHostOptions();
        options.SearchPaths.Add(Path.Combine(AppContext.BaseDirectory, "plugins", "virtio-fs"));
        using var host = new PluginHost(options);
        host.LoadAll();
        PluginInfo plugin = Assert.Single(host.Plugins);
        Assert.True(plugin.Status == PluginLoadStatus.Loaded, plugin.Error);
        Assert.True(host.TryFindFactory("virtio-fs", out IDeviceFactory? factory, out _));
        Assert.NotSame(typeof(VirtioFsDeviceFactory).Assembly, factory.GetType().Assembly);
        Assert.NotEqual(AssemblyLoadContext.Default, AssemblyLoadContext.GetLoadContext(factory.GetType().Assembly));

        string json = $$"""{ "sharedDir": "share", "tag": "hostfs", "cache": "never", "dax": { "windowSize": 4194304 } }""";
        object deviceOptions = JsonSerializer.Deserialize(json, factory.OptionsType, s_json)!;
        var validation = new DeviceOptionsValidationContext("$.devices[0].options", _share.Root);
        factory.Validate(deviceOptions, validation);
        Assert.Empty(validation.Errors);
        IDevice device = factory.Create(new DeviceCreateContext("fs0", NullLoggerFactory.Instance, null, EmptyServiceProvider.Instance, _share.Root), deviceOptions);
        IVirtioDevice virtio = Assert.IsAssignableFrom<IVirtioDevice>(device);
        Assert.Equal(VirtioDeviceType.FileSystem, virtio.DeviceType);
        Assert.Equal(4UL << 20, Assert.Single(virtio.SharedMemoryRegions).Size);

        using FuseTestClient client = FuseTestClient.Start(virtio);
        client.Init().Ok();
        ulong node = client.LookupNode(1, "a.txt");
        ulong fh = client.Open(node, 0).Ok().U64(0);
        Assert.Equal("through the plugin host", System.Text.Encoding.UTF8.GetString(client.Read(node, fh, 0, 100).Ok().Payload));
    }

    [Fact]
    public void BadOptionsFromJsonAreReportedWithTheirPaths()
    {
        IDeviceFactory factory = new VirtioFsDeviceFactory();
        object deviceOptions = JsonSerializer.Deserialize("""{ "tag": "" }""", factory.OptionsType, s_json)!;
        var validation = new DeviceOptionsValidationContext("$.devices[1].options", _share.Root);
        factory.Validate(deviceOptions, validation);
        Assert.Equal(["$.devices[1].options.sharedDir", "$.devices[1].options.tag"], validation.Errors.Select(e => e.Path));
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize("""{ "sharedDirectory": "x" }""", factory.OptionsType, s_json));
    }
}

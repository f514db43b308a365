using Microsoft.Extensions.Logging.Abstractions;
using Vmm.Contracts.Devices;
using Vmm.Contracts.Display;
using Vmm.Contracts.Virtio;
using Vmm.Core.Plugins;
using Vmm.Testing;
using Vmm.Testing.Devices;

namespace Vmm.Plugins.VirtioGpu.Tests;

/// <summary>Both plugins load from their build output through the plugin host, manifests and contract identity included.</summary>
public sealed class PluginLoadingTests
{
    [Fact]
    public void The_gpu_and_display_plugins_load_and_their_devices_are_contract_types()
    {
        var options = new PluginHostOptions();
        options.SearchPaths.Add(SourceTree.PluginOutput("Vmm.Plugins.VirtioGpu"));
        options.SearchPaths.Add(SourceTree.PluginOutput("Vmm.Plugins.Display"));
        using var host = new PluginHost(options);
        host.LoadAll();

        Assert.True(host.TryFindFactory("virtio-gpu", out IDeviceFactory? gpuFactory, out string? gpuPlugin));
        Assert.Equal("virtio-gpu", gpuPlugin);
        Assert.True(host.TryFindFactory("display-png", out IDeviceFactory? pngFactory, out _));
        Assert.True(host.TryFindFactory("display-vnc", out _, out _));

        var context = new DeviceCreateContext("gpu0", NullLoggerFactory.Instance, null, EmptyServiceProvider.Instance, AppContext.BaseDirectory);
        using IDevice gpu = gpuFactory.Create(context, Activator.CreateInstance(gpuFactory.OptionsType)!);
        using IDevice png = pngFactory.Create(context, Activator.CreateInstance(pngFactory.OptionsType)!);
        Assert.IsAssignableFrom<IDisplaySource>(gpu);
        Assert.Equal(VirtioDeviceType.Gpu, Assert.IsAssignableFrom<IVirtioDevice>(gpu).DeviceType);
        Assert.IsAssignableFrom<IDisplaySink>(png);
    }
}

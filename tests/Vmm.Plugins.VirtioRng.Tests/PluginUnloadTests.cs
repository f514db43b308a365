using System.Runtime.CompilerServices;
using System.Runtime.Loader;
using Microsoft.Extensions.Logging.Abstractions;
using Vmm.Contracts.Devices;
using Vmm.Core.Plugins;
using Vmm.Plugins.VirtioRng.Tests.Fakes;

namespace Vmm.Plugins.VirtioRng.Tests;

public sealed class PluginUnloadTests
{
    [Fact]
    public void An_unloaded_plugin_context_is_collected()
    {
        WeakReference context = LoadUseAndUnload();

        for (int i = 0; i < 10 && context.IsAlive; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }

        Assert.False(context.IsAlive, "The plugin's load context is still referenced after unload.");
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference LoadUseAndUnload()
    {
        using PluginHost host = TestPlugins.CreateHost(TestPlugins.VirtioRng);
        host.LoadAll();
        Assert.True(host.TryGetFactory("virtio-rng", "virtio-rng", out IDeviceFactory? factory));
        Assert.True(host.TryGetServices("virtio-rng", out IServiceProvider? services));
        AssemblyLoadContext context = AssemblyLoadContext.GetLoadContext(factory.GetType().Assembly)!;

        // Use the plugin for real: a device is created, serves a request and is disposed before the unload.
        object options = Activator.CreateInstance(factory.OptionsType)!;
        using (var fake = new FakeVirtioDeviceContext())
        using (IDevice device = factory.Create(new DeviceCreateContext("rng0", NullLoggerFactory.Instance, null, services, "/"), options))
        {
            var virtio = (Vmm.Contracts.Virtio.IVirtioDevice)device;
            fake.Queue.Offer([], [new(fake.GuestMemory.BaseAddress, 16)]);
            virtio.Activate(fake);
            virtio.ProcessQueue(0);
            Assert.Equal(16u, Assert.Single(fake.Queue.Used).BytesWritten);
        }

        host.Unload("virtio-rng");
        return new WeakReference(context, trackResurrection: true);
    }
}

using Vmm.Contracts.Virtio;
using Vmm.Testing.Driver;
using Vmm.Testing.Plugins;
using Xunit;

namespace MyPlugin.Tests;

public sealed class MyDeviceTests
{
    private static string PluginFolder => Path.Combine(AppContext.BaseDirectory, "plugin");

    [Fact]
    public void The_plugin_loads_with_its_device_type()
    {
        using PluginTestHost host = PluginTestHost.Load(PluginFolder);

        Assert.Equal("my-plugin", host.Name);
        Assert.Equal(["my-device"], host.DeviceTypes);
    }

    [Fact]
    public void Bad_options_are_reported_with_their_path()
    {
        using PluginTestHost host = PluginTestHost.Load(PluginFolder);

        Assert.Equal(["$.devices[0].options.fill: must be a byte (0 to 255), not 300."], host.Validate("my-device", """{ "fill": 300 }"""));
    }

    [Fact]
    public void The_guest_driver_reads_the_fill_byte()
    {
        using PluginTestHost host = PluginTestHost.Load(PluginFolder);
        var device = (IVirtioDevice)host.CreateDevice("my-device", """{ "fill": 90 }""");
        VirtioPciDriver driver = host.AttachAndOpen(device);
        driver.Initialize();

        GuestBuffer buffer = host.Machine.AllocateBuffer(300);
        driver.Submit(0, [], [buffer]);
        (_, uint length) = driver.WaitForUsed(0, TimeSpan.FromSeconds(10));

        Assert.Equal(300u, length);
        Assert.All(host.Machine.Memory.GetSpan(buffer.Address, 300).ToArray(), b => Assert.Equal(90, b));
    }
}

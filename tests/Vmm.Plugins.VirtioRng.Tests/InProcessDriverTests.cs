using Vmm.Contracts.Devices;
using Vmm.Contracts.Virtio;
using Vmm.Core.Plugins;
using Vmm.Testing.Driver;
using Vmm.Testing.InProcess;

namespace Vmm.Plugins.VirtioRng.Tests;

/// <summary>
/// The sample plugin end to end: loaded from its build output through the plugin host, attached to the in-process
/// PCI bus, found and brought up by the C# guest driver the way Linux's virtio_pci does, and read with MSI-X.
/// </summary>
public sealed class InProcessDriverTests
{
    [Fact]
    public void Guest_driver_reads_entropy_from_the_loaded_plugin_with_msix_interrupts()
    {
        string source = Path.Combine(Path.GetTempPath(), $"vmm-rng-{Guid.NewGuid():N}.bin");
        byte[] entropy = new byte[4096];
        new Random(1234).NextBytes(entropy);
        File.WriteAllBytes(source, entropy);
        try
        {
            using PluginHost host = TestPlugins.CreateHost(TestPlugins.VirtioRng);
            IDeviceFactory factory = TestPlugins.LoadRngFactory(host);
            using IVirtioDevice device = TestPlugins.CreateDevice(host, factory, $$"""{ "source": "file", "path": "{{source}}" }""");
            using var machine = new InProcessMachine();
            machine.AttachVirtioDevice(device);

            VirtioPciDriver driver = VirtioPciDriver.Open(machine, VirtioDeviceType.Entropy);
            driver.Initialize();
            Assert.Equal(1, driver.QueueCount);
            Assert.NotEqual(0UL, driver.NegotiatedFeatures & VirtioFeatures.Version1);

            GuestBuffer first = machine.AllocateBuffer(64);
            GuestBuffer second = machine.AllocateBuffer(100);
            driver.Submit(0, [], [first]);
            (_, uint firstLength) = driver.WaitForUsed(0, TimeSpan.FromSeconds(10));
            driver.Submit(0, [], [second]);
            (_, uint secondLength) = driver.WaitForUsed(0, TimeSpan.FromSeconds(10));

            Assert.Equal(64u, firstLength);
            Assert.Equal(100u, secondLength);
            byte[] received = [.. machine.Memory.GetSpan(first.Address, 64), .. machine.Memory.GetSpan(second.Address, 100)];
            Assert.Equal(entropy.AsSpan(0, received.Length).ToArray(), received);
        }
        finally
        {
            File.Delete(source);
        }
    }
}

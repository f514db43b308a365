using System.Text;
using Vmm.Contracts.Virtio;
using Vmm.Testing.Driver;
using Vmm.Testing.InProcess;
using Xunit;

namespace Vmm.Core.Tests.InProcess;

/// <summary>What a plugin author writes to exercise a device: attach it, bring it up, send a request.</summary>
public sealed class PluginAuthorExampleTests
{
    [Fact]
    public void Echo_device_round_trip_through_the_in_process_driver()
    {
        using var machine = new InProcessMachine();
        machine.AttachVirtioDevice(new EchoDevice());
        VirtioPciDriver driver = VirtioPciDriver.Open(machine, VirtioDeviceType.Console);
        driver.Initialize();

        GuestBuffer request = machine.AllocateBuffer(5);
        GuestBuffer response = machine.AllocateBuffer(16);
        machine.Memory.Write(request.Address, "hello"u8);
        driver.Submit(0, [request], [response]);
        (_, uint length) = driver.WaitForUsed(0, TimeSpan.FromSeconds(10));

        Assert.Equal("hello", Encoding.ASCII.GetString(machine.Memory.GetSpan(response.Address, (int)length)));
    }
}

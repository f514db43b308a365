using System.Text;
using Vmm.Contracts.Virtio;
using Vmm.Testing.VhostUser;

namespace Vmm.VhostUser.Tests;

public sealed class EndToEndTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Echo_device_answers_through_the_front_end()
    {
        var device = new EchoDevice();
        await using var server = new RunningServer(device);
        using (VhostUserFrontend frontend = VhostUserFrontend.Connect(server.SocketPath))
        {
            frontend.Negotiate();
            Assert.NotEqual(0UL, frontend.NegotiatedFeatures & VirtioFeatures.Version1);
            Assert.NotEqual(0UL, frontend.NegotiatedFeatures & 1UL);
            Assert.Equal(1, frontend.GetQueueCount());
            VhostUserFrontendQueue queue = frontend.StartQueue(0, 16);

            for (int i = 0; i < 40; i++)
            {
                if (i == 20)
                {
                    // A new memory table while the ring runs (memory hot-plug): the back-end remaps and goes on.
                    frontend.SetMemoryTable();
                }

                byte[] request = Encoding.ASCII.GetBytes($"hello {i}");
                ulong input = frontend.Allocator.Allocate(64, 8);
                ulong output = frontend.Allocator.Allocate(64, 8);
                frontend.Memory.Write(input, request);
                ushort head = queue.Post([new GuestBuffer(input, (uint)request.Length)], [new GuestBuffer(output, 64)]);
                Assert.True(queue.WaitForUsed(s_timeout, out ushort used, out uint length), $"request {i} was not answered");
                Assert.Equal(head, used);
                Assert.Equal((uint)request.Length, length);
                byte[] answer = new byte[length];
                frontend.Memory.Read(output, answer);
                Assert.Equal(request, answer);
            }

            Assert.Equal(40, frontend.StopQueue(0));
        }

        server.WaitForCompletedConnections(1);
        Assert.Equal(2, device.Activations);
        Assert.True(device.Resets >= 1);
    }

    [Fact]
    public async Task Config_space_is_read_with_get_config()
    {
        await using var server = new RunningServer(new EchoDevice());
        using VhostUserFrontend frontend = VhostUserFrontend.Connect(server.SocketPath);
        frontend.Negotiate();
        Assert.Equal(new byte[] { 0x66, 0x55, 0x44, 0x33 }, frontend.GetConfig(2, 4));
        Assert.Empty(frontend.GetConfig(6, 4));
    }

    [Fact]
    public async Task Virtio_rng_plugin_fills_buffers_through_vhost_user()
    {
        string source = Path.GetTempFileName();
        byte[] pattern = [.. Enumerable.Range(0, 4096).Select(i => (byte)(i * 7))];
        await File.WriteAllBytesAsync(source, pattern, TestContext.Current.CancellationToken);
        try
        {
            using var device = RngDevices.FromFile(source);
            await using var server = new RunningServer(device);
            using VhostUserFrontend frontend = VhostUserFrontend.Connect(server.SocketPath);
            frontend.Negotiate();
            VhostUserFrontendQueue queue = frontend.StartQueue(0, 8);
            ulong output = frontend.Allocator.Allocate(32, 8);
            queue.Post([], [new GuestBuffer(output, 32)]);
            Assert.True(queue.WaitForUsed(s_timeout, out _, out uint length));
            Assert.Equal(32u, length);
            byte[] bytes = new byte[32];
            frontend.Memory.Read(output, bytes);
            Assert.Equal(pattern.AsSpan(0, 32).ToArray(), bytes);
        }
        finally
        {
            File.Delete(source);
        }
    }

    [Fact]
    public async Task Device_that_throws_signals_the_error_eventfd_and_the_server_goes_on()
    {
        var device = new EchoDevice { ThrowOnProcess = true };
        await using var server = new RunningServer(device);
        using (VhostUserFrontend frontend = VhostUserFrontend.Connect(server.SocketPath))
        {
            frontend.Negotiate();
            VhostUserFrontendQueue queue = frontend.StartQueue(0, 8);
            ulong buffer = frontend.Allocator.Allocate(8, 8);
            queue.Post([new GuestBuffer(buffer, 8)], [new GuestBuffer(buffer, 8)]);
            Assert.True(queue.WaitForError(s_timeout), "The error eventfd was not signalled.");
            Assert.True(server.Server.IsDeviceFailed);
        }

        server.WaitForCompletedConnections(1);
        Assert.False(server.Server.IsDeviceFailed, "Disconnecting did not reset the failed device.");
    }
}

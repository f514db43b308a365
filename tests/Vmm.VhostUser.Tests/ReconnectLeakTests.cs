using Vmm.Contracts.Virtio;
using Vmm.Testing.VhostUser;

namespace Vmm.VhostUser.Tests;

[Collection(ResourceCountingCollection.Name)]
public sealed class ReconnectLeakTests
{
    [Fact]
    public async Task Connect_disconnect_cycles_leak_no_descriptor_and_no_mapping()
    {
        var device = new EchoDevice();
        await using var server = new RunningServer(device);
        int fds = 0;
        int maps = 0;
        for (int cycle = 0; cycle <= ResourceCountingCollection.Rounds; cycle++)
        {
            if (cycle == 1)
            {
                // After one warm-up cycle, so the runtime's lazily created handles are already there.
                fds = ProcessResources.OpenDescriptors();
                maps = ProcessResources.GuestMemoryMappings();
            }

            using (VhostUserFrontend frontend = VhostUserFrontend.Connect(server.SocketPath, 4 << 20))
            {
                frontend.Negotiate();

                // Ours and the back-end's view of the same memfd (SET_MEM_TABLE was acknowledged, so it is mapped).
                Assert.Equal(2, ProcessResources.GuestMemoryMappings());
                VhostUserFrontendQueue queue = frontend.StartQueue(0, 8);
                ulong input = frontend.Allocator.Allocate(8, 8);
                ulong output = frontend.Allocator.Allocate(8, 8);
                queue.Post([new GuestBuffer(input, 8)], [new GuestBuffer(output, 8)]);
                Assert.True(queue.WaitForUsed(TimeSpan.FromSeconds(10), out _, out _));
                if (cycle % 2 == 0)
                {
                    // Half the cycles stop the ring first, the others just vanish.
                    frontend.StopQueue(0);
                }
            }

            server.WaitForCompletedConnections(cycle + 1);
            Assert.Equal(0, ProcessResources.GuestMemoryMappings());
        }

        Assert.InRange(ProcessResources.OpenDescriptors(), 0, fds + ResourceCountingCollection.Slack);
        // Exact: thread stacks come and go in /proc/self/maps, but guest RAM mappings are ours alone.
        Assert.Equal(maps, ProcessResources.GuestMemoryMappings());
        Assert.Equal(0, maps);
    }
}

using Vmm.Contracts.Virtio;
using Xunit;

namespace Vmm.Core.Tests.Virtio.Queues;

public sealed class SplitVirtqueueAllocationTests
{
    [Theory]
    [InlineData(false, false, 1)]
    [InlineData(false, false, 8)]
    [InlineData(true, true, 64)]
    public void RoundTripsAllocateNothingAfterWarmUp(bool eventIndex, bool indirect, int descriptors)
    {
        using var harness = new QueueHarness(size: 128, eventIndex: eventIndex, indirect: indirect);
        var readable = new GuestBuffer[descriptors / 2];
        var writable = new GuestBuffer[descriptors - (descriptors / 2)];
        for (int i = 0; i < readable.Length; i++)
        {
            readable[i] = new GuestBuffer(harness.AllocateBuffer(64), 64);
        }

        for (int i = 0; i < writable.Length; i++)
        {
            writable[i] = new GuestBuffer(harness.AllocateBuffer(64), 64);
        }

        byte[] response = new byte[64];
        RoundTrips(harness, readable, writable, response, indirect, 1_000);
        long before = GC.GetAllocatedBytesForCurrentThread();
        RoundTrips(harness, readable, writable, response, indirect, 10_000);
        long after = GC.GetAllocatedBytesForCurrentThread();

        Assert.Equal(before, after);
        Assert.Equal(11_000, harness.Interrupt.Count);
    }

    private static void RoundTrips(QueueHarness harness, GuestBuffer[] readable, GuestBuffer[] writable, byte[] response, bool indirect, int count)
    {
        for (int i = 0; i < count; i++)
        {
            harness.Driver.Add(readable, writable, indirect);
            harness.Driver.KickNeeded();
            if (!harness.Device.TryPop(out DescriptorChain? chain))
            {
                throw new InvalidOperationException("Nothing to pop.");
            }

            int written = chain.Write(0, response);
            harness.Device.Push(chain, (uint)written);
            harness.Device.NotifyGuest();
            if (!harness.Driver.TryGetUsed(out _, out _))
            {
                throw new InvalidOperationException("Nothing used.");
            }
        }
    }
}

using Vmm.Contracts.Virtio;
using Vmm.Core.Memory;
using Xunit;

namespace Vmm.Core.Tests.Virtio.Queues;

public sealed class DescriptorChainTests
{
    [Fact]
    public void A_buffer_spanning_two_adjacent_regions_is_read_and_written_whole()
    {
        using GuestMemory memory = GuestMemory.Create([new GuestMemoryRegionSpec(0, 0x10000), new GuestMemoryRegionSpec(0x10000, 0x10000)]);
        var chain = new DescriptorChain(memory);
        chain.Reset(0);
        chain.AddReadable(new GuestBuffer(0xFFF0, 32));
        chain.AddWritable(new GuestBuffer(0xFFE8, 32));
        byte[] request = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();
        memory.Write(0xFFF0, request);

        byte[] read = new byte[32];
        Assert.Equal(32, chain.Read(0, read));
        Assert.Equal(request, read);

        Assert.Equal(32, chain.Write(0, read));
        byte[] written = new byte[32];
        memory.Read(0xFFE8, written);
        Assert.Equal(request, written);
    }

    [Fact]
    public void Offsets_walk_across_buffers_and_stop_at_the_end()
    {
        using GuestMemory memory = GuestMemory.Create(0x10000);
        var chain = new DescriptorChain(memory);
        chain.Reset(3);
        chain.AddWritable(new GuestBuffer(0x100, 4));
        chain.AddWritable(new GuestBuffer(0x200, 4));

        Assert.Equal(6, chain.Write(2, [1, 2, 3, 4, 5, 6, 7, 8]));
        Assert.Equal(new byte[] { 0, 0, 1, 2 }, memory.GetSpan(0x100, 4).ToArray());
        Assert.Equal(new byte[] { 3, 4, 5, 6 }, memory.GetSpan(0x200, 4).ToArray());
        Assert.Equal(8L, chain.WritableLength);
        Assert.Throws<VirtioProtocolException>(() => chain.AddReadable(new GuestBuffer(0x300, 4)));
    }
}

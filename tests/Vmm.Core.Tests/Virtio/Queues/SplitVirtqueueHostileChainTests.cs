using Vmm.Contracts.Memory;
using Vmm.Contracts.Virtio;
using Vmm.Core.Memory;
using Vmm.Core.Virtio.Queues;
using Xunit;

namespace Vmm.Core.Tests.Virtio.Queues;

/// <summary>
/// Chains a hostile driver can build. Each must end in a <see cref="VirtioProtocolException"/> from TryPop or
/// Enable (the worker turns it into DEVICE_NEEDS_RESET), with no request handed to the device.
/// </summary>
public sealed class SplitVirtqueueHostileChainTests
{
    private const ushort Next = 1;
    private const ushort Write = 2;
    private const ushort Indirect = 4;

    [Fact]
    public void LoopIsRejected()
    {
        using var harness = new QueueHarness(size: 8);
        ulong buffer = harness.AllocateBuffer(16);
        harness.WriteDescriptor(0, buffer, 16, Next, 1);
        harness.WriteDescriptor(1, buffer, 16, Next, 0);
        harness.PublishRaw(0);

        AssertRejected(harness, "loop");
    }

    [Fact]
    public void ChainLongerThanTheQueueIsRejected()
    {
        // Every descriptor chains to the next and the last back into the middle: more than Size hops.
        using var harness = new QueueHarness(size: 8);
        ulong buffer = harness.AllocateBuffer(16);
        for (int i = 0; i < 8; i++)
        {
            harness.WriteDescriptor(i, buffer, 16, Next, (ushort)(i == 7 ? 4 : i + 1));
        }

        harness.PublishRaw(0);
        AssertRejected(harness, "longer than the queue");
    }

    [Fact]
    public void LoopInsideAnIndirectTableIsRejected()
    {
        using var harness = new QueueHarness(size: 8, indirect: true);
        ulong buffer = harness.AllocateBuffer(16);
        ulong table = harness.Allocator.Allocate(2 * 16, 16);
        harness.WriteDescriptorAt(table, buffer, 16, Next, 1);
        harness.WriteDescriptorAt(table + 16, buffer, 16, Next, 0);
        harness.WriteDescriptor(0, table, 32, Indirect, 0);
        harness.PublishRaw(0);

        AssertRejected(harness, "loop");
    }

    [Fact]
    public void IndirectInsideIndirectIsRejected()
    {
        using var harness = new QueueHarness(size: 8, indirect: true);
        ulong buffer = harness.AllocateBuffer(16);
        ulong inner = harness.Allocator.Allocate(16, 16);
        ulong outer = harness.Allocator.Allocate(16, 16);
        harness.WriteDescriptorAt(inner, buffer, 16, 0, 0);
        harness.WriteDescriptorAt(outer, inner, 16, Indirect, 0);
        harness.WriteDescriptor(0, outer, 16, Indirect, 0);
        harness.PublishRaw(0);

        AssertRejected(harness, "inside an indirect table");
    }

    [Fact]
    public void IndirectWithoutTheFeatureIsRejected()
    {
        using var harness = new QueueHarness(size: 8, indirect: false);
        ulong table = harness.Allocator.Allocate(16, 16);
        harness.WriteDescriptorAt(table, harness.AllocateBuffer(16), 16, 0, 0);
        harness.WriteDescriptor(0, table, 16, Indirect, 0);
        harness.PublishRaw(0);

        AssertRejected(harness, "INDIRECT_DESC");
    }

    [Fact]
    public void IndirectWithNextIsRejected()
    {
        using var harness = new QueueHarness(size: 8, indirect: true);
        ulong table = harness.Allocator.Allocate(16, 16);
        harness.WriteDescriptorAt(table, harness.AllocateBuffer(16), 16, 0, 0);
        harness.WriteDescriptor(0, table, 16, Indirect | Next, 1);
        harness.WriteDescriptor(1, harness.AllocateBuffer(16), 16, 0, 0);
        harness.PublishRaw(0);

        AssertRejected(harness, "INDIRECT and NEXT");
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(24u)]
    [InlineData(9 * 16u)]
    public void IndirectTableOfBadLengthIsRejected(uint length)
    {
        using var harness = new QueueHarness(size: 8, indirect: true);
        ulong table = harness.Allocator.Allocate(16 * 16, 16);
        for (int i = 0; i < 16; i++)
        {
            harness.WriteDescriptorAt(table + (ulong)(16 * i), harness.AllocateBuffer(16), 16, 0, 0);
        }

        harness.WriteDescriptor(0, table, length, Indirect, 0);
        harness.PublishRaw(0);

        AssertRejected(harness, "indirect table of");
    }

    [Fact]
    public void IndirectTableOutsideMemoryIsRejected()
    {
        using var harness = new QueueHarness(size: 8, indirect: true);
        harness.WriteDescriptor(0, QueueHarness.MemorySize - 16, 32, Indirect, 0);
        harness.PublishRaw(0);

        AssertRejected(harness, "outside guest memory");
    }

    [Fact]
    public void IndirectNextOutsideTheTableIsRejected()
    {
        using var harness = new QueueHarness(size: 8, indirect: true);
        ulong table = harness.Allocator.Allocate(16, 16);
        harness.WriteDescriptorAt(table, harness.AllocateBuffer(16), 16, Next, 1);
        harness.WriteDescriptor(0, table, 16, Indirect, 0);
        harness.PublishRaw(0);

        AssertRejected(harness, "entry 1 of a 1-entry table");
    }

    [Fact]
    public void ZeroLengthBufferIsRejected()
    {
        using var harness = new QueueHarness(size: 8);
        harness.WriteDescriptor(0, harness.AllocateBuffer(16), 0, 0, 0);
        harness.PublishRaw(0);

        AssertRejected(harness, "zero-length");
    }

    [Theory]
    [InlineData(QueueHarness.MemorySize, 16u)]
    [InlineData(QueueHarness.MemorySize - 8, 16u)]
    [InlineData(0x1_0000_0000UL, 1u)]
    public void OutOfRangeBufferIsRejected(ulong address, uint length)
    {
        using var harness = new QueueHarness(size: 8);
        harness.WriteDescriptor(0, address, length, Write, 0);
        harness.PublishRaw(0);

        AssertRejected(harness, "outside guest memory");
    }

    [Fact]
    public void BufferWrappingTheAddressSpaceIsRejected()
    {
        using var harness = new QueueHarness(size: 8);
        harness.WriteDescriptor(0, ulong.MaxValue - 0xFFF, 0x2000, 0, 0);
        harness.PublishRaw(0);

        AssertRejected(harness, "outside guest memory");
    }

    [Fact]
    public void BufferStraddlingAHoleIsRejected()
    {
        // Two regions with a hole between them; the rings live in the first.
        using GuestMemory memory = GuestMemory.Create([new GuestMemoryRegionSpec(0, 0x10000), new GuestMemoryRegionSpec(0x20000, 0x10000)]);
        var queue = new SplitVirtqueue(memory, 0, 8, new CountingInterruptLine())
        {
            DescriptorTableAddress = 0x1000,
            AvailableRingAddress = 0x2000,
            UsedRingAddress = 0x3000,
        };
        queue.Enable(VirtioFeatures.Version1);
        memory.WriteUInt64(0x1000, 0xF000);
        memory.WriteUInt32(0x1008, 0x2000);
        memory.WriteUInt16(0x2004, 0);
        memory.WriteUInt16(0x2002, 1);

        VirtioProtocolException error = Assert.Throws<VirtioProtocolException>(() => queue.TryPop(out _));
        Assert.Contains("outside guest memory", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadableAfterWritableIsRejected()
    {
        using var harness = new QueueHarness(size: 8);
        harness.WriteDescriptor(0, harness.AllocateBuffer(16), 16, Write | Next, 1);
        harness.WriteDescriptor(1, harness.AllocateBuffer(16), 16, 0, 0);
        harness.PublishRaw(0);

        AssertRejected(harness, "readable");
    }

    [Fact]
    public void AvailableIndexJumpingMoreThanSizeIsRejected()
    {
        using var harness = new QueueHarness(size: 8);
        harness.SetAvailableIndex(9);

        AssertRejected(harness, "jumped by 9");
    }

    [Fact]
    public void HeadIndexOutOfRangeIsRejected()
    {
        using var harness = new QueueHarness(size: 8);
        harness.PublishRaw(8);

        AssertRejected(harness, "descriptor index 8");
    }

    [Fact]
    public void NextIndexOutOfRangeIsRejected()
    {
        using var harness = new QueueHarness(size: 8);
        harness.WriteDescriptor(0, harness.AllocateBuffer(16), 16, Next, 0xFFFF);
        harness.PublishRaw(0);

        AssertRejected(harness, "descriptor index 65535");
    }

    [Fact]
    public void ChainOverFourGibibytesIsRejected()
    {
        // Readable buffers can all point at the same memory; their lengths still add up past 32 bits.
        using GuestMemory memory = GuestMemory.Create(0x1_0000_0000UL + 0x10000);
        var queue = new SplitVirtqueue(memory, 0, 4, new CountingInterruptLine())
        {
            DescriptorTableAddress = 0x1000,
            AvailableRingAddress = 0x2000,
            UsedRingAddress = 0x3000,
        };
        queue.Enable(VirtioFeatures.Version1);
        memory.WriteUInt64(0x1000, 0x10000);
        memory.WriteUInt32(0x1008, uint.MaxValue);
        memory.WriteUInt16(0x100C, Next);
        memory.WriteUInt16(0x100E, 1);
        memory.WriteUInt64(0x1010, 0x10000);
        memory.WriteUInt32(0x1018, 2);
        memory.WriteUInt16(0x2002, 1);

        VirtioProtocolException error = Assert.Throws<VirtioProtocolException>(() => queue.TryPop(out _));
        Assert.Contains("4 GiB", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AHeadRepublishedWhileTheDeviceHoldsItIsRejected()
    {
        // A driver that republishes a head the device still holds (the way to have more requests in flight
        // than the queue has entries): refused at the second pop, before the pool could run dry.
        using var harness = new QueueHarness(size: 2);
        harness.WriteDescriptor(0, harness.AllocateBuffer(16), 16, 0, 0);
        harness.PublishRaw(0);
        harness.PublishRaw(0);
        Assert.True(harness.Device.TryPop(out _));

        AssertRejected(harness, "descriptor 0 available again before the device used it");
    }

    [Theory]
    [InlineData(0x1008UL, 0x2000UL, 0x3000UL, "not 16-byte aligned")]
    [InlineData(0x1000UL, 0x2001UL, 0x3000UL, "not 2-byte aligned")]
    [InlineData(0x1000UL, 0x2000UL, 0x3002UL, "not 4-byte aligned")]
    [InlineData(QueueHarness.MemorySize - 0x40, 0x2000UL, 0x3000UL, "outside guest memory")]
    [InlineData(0x1000UL, QueueHarness.MemorySize, 0x3000UL, "outside guest memory")]
    [InlineData(0x1000UL, 0x2000UL, ulong.MaxValue - 3, "outside guest memory")]
    public void MisplacedRingsAreRejectedAtEnable(ulong descriptors, ulong available, ulong used, string expected)
    {
        using GuestMemory memory = GuestMemory.Create(QueueHarness.MemorySize);
        var queue = new SplitVirtqueue(memory, 3, 16, new CountingInterruptLine())
        {
            DescriptorTableAddress = descriptors,
            AvailableRingAddress = available,
            UsedRingAddress = used,
        };

        VirtioProtocolException error = Assert.Throws<VirtioProtocolException>(() => queue.Enable(VirtioFeatures.Version1));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.False(queue.IsReady);
    }

    [Fact]
    public void RejectedChainIsNotConsumed()
    {
        using var harness = new QueueHarness(size: 8);
        harness.WriteDescriptor(0, harness.AllocateBuffer(16), 0, 0, 0);
        harness.PublishRaw(0);

        Assert.Throws<VirtioProtocolException>(() => harness.Device.TryPop(out _));
        Assert.Equal((ushort)0, harness.Device.NextAvailableIndex);
        Assert.Equal(0, harness.Device.InFlight);
    }

    private static void AssertRejected(QueueHarness harness, string expected)
    {
        DescriptorChain? chain = null;
        VirtioProtocolException error = Assert.Throws<VirtioProtocolException>(() => harness.Device.TryPop(out chain));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Null(chain);
    }
}

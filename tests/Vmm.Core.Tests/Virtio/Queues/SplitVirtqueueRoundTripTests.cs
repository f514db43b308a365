using Vmm.Contracts.Memory;
using Vmm.Contracts.Virtio;
using Vmm.Core.Virtio.Queues;
using Vmm.Testing.Virtio;
using Xunit;

namespace Vmm.Core.Tests.Virtio.Queues;

public sealed class SplitVirtqueueRoundTripTests
{
    [Theory]
    [InlineData(1, false)]
    [InlineData(8, false)]
    [InlineData(64, false)]
    [InlineData(1, true)]
    [InlineData(8, true)]
    [InlineData(64, true)]
    public void RequestRoundTripsWithReadableAndWritableBuffers(int descriptors, bool indirect)
    {
        using var harness = new QueueHarness(size: 128, indirect: indirect);
        int readableCount = Math.Max(1, descriptors / 2);
        int writableCount = descriptors - readableCount;
        var readable = new GuestBuffer[readableCount];
        var writable = new GuestBuffer[writableCount];
        for (int i = 0; i < readableCount; i++)
        {
            readable[i] = new GuestBuffer(harness.AllocateBuffer(32), 32);
            harness.Memory.Write(readable[i].Address, Enumerable.Repeat((byte)i, 32).ToArray());
        }

        for (int i = 0; i < writableCount; i++)
        {
            writable[i] = new GuestBuffer(harness.AllocateBuffer(16), 16);
        }

        ushort head = harness.Driver.Add(readable, writable, useIndirect: indirect);
        Assert.True(harness.Driver.KickNeeded());

        Assert.True(harness.Device.TryPop(out DescriptorChain? chain));
        Assert.Equal(head, chain.HeadIndex);
        Assert.Equal(readable, chain.Readable.ToArray());
        Assert.Equal(writable, chain.Writable.ToArray());
        Assert.Equal(32L * readableCount, chain.ReadableLength);
        byte[] request = new byte[chain.ReadableLength];
        Assert.Equal(request.Length, chain.Read(0, request));
        for (int i = 0; i < readableCount; i++)
        {
            Assert.All(request.AsSpan(i * 32, 32).ToArray(), b => Assert.Equal((byte)i, b));
        }

        byte[] response = Enumerable.Range(0, (int)chain.WritableLength).Select(i => (byte)(i * 7)).ToArray();
        Assert.Equal(response.Length, chain.Write(0, response));
        harness.Device.Push(chain, (uint)response.Length);
        harness.Device.NotifyGuest();
        Assert.Equal(1, harness.Interrupt.Count);

        Assert.True(harness.Driver.TryGetUsed(out ushort usedHead, out uint length));
        Assert.Equal(head, usedHead);
        Assert.Equal((uint)response.Length, length);
        for (int i = 0; i < writableCount; i++)
        {
            byte[] part = new byte[16];
            harness.Memory.Read(writable[i].Address, part);
            Assert.Equal(response.AsSpan(i * 16, 16).ToArray(), part);
        }

        Assert.False(harness.Device.TryPop(out _));
        Assert.False(harness.Driver.TryGetUsed(out _, out _));
        Assert.Equal(128, harness.Driver.FreeDescriptors);
    }

    [Fact]
    public void ManyRequestsInFlightComeBackOutOfOrder()
    {
        using var harness = new QueueHarness(size: 8);
        var heads = new List<ushort>();
        for (int i = 0; i < 4; i++)
        {
            heads.Add(harness.Driver.Add([new GuestBuffer(harness.AllocateBuffer(8), 8)], [new GuestBuffer(harness.AllocateBuffer(8), 8)]));
        }

        Assert.Equal(0, harness.Driver.FreeDescriptors);
        Assert.Throws<InvalidOperationException>(() => harness.Driver.Add([new GuestBuffer(0x1000, 8)], []));

        var chains = new List<DescriptorChain>();
        while (harness.Device.TryPop(out DescriptorChain? chain))
        {
            chains.Add(chain);
        }

        Assert.Equal(heads, chains.Select(c => c.HeadIndex));
        Assert.Equal(4, harness.Device.InFlight);
        chains.Reverse();
        foreach (DescriptorChain chain in chains)
        {
            harness.Device.Push(chain, 0);
        }

        var used = new List<ushort>();
        while (harness.Driver.TryGetUsed(out ushort head, out _))
        {
            used.Add(head);
        }

        Assert.Equal(Enumerable.Reverse(heads), used);
        Assert.Equal(8, harness.Driver.FreeDescriptors);
        Assert.Equal(0, harness.Device.InFlight);
    }

    [Fact]
    public void IndicesWrapAroundSixteenBits()
    {
        using var harness = new QueueHarness(size: 4);
        GuestBuffer[] readable = [new GuestBuffer(harness.AllocateBuffer(4), 4)];
        GuestBuffer[] writable = [new GuestBuffer(harness.AllocateBuffer(4), 4)];
        for (int i = 0; i < 70_000; i++)
        {
            ushort head = harness.Driver.Add(readable, writable);
            Assert.True(harness.Device.TryPop(out DescriptorChain? chain));
            Assert.Equal(head, chain.HeadIndex);
            harness.Device.Push(chain, 4);
            Assert.True(harness.Driver.TryGetUsed(out ushort used, out _));
            Assert.Equal(head, used);
        }

        Assert.Equal(unchecked((ushort)70_000), harness.Device.NextAvailableIndex);
        Assert.Equal(unchecked((ushort)70_000), harness.Device.NextUsedIndex);
    }

    [Fact]
    public void RingBaseMovesToAnotherDeviceQueue()
    {
        // vhost-user GET_VRING_BASE / SET_VRING_BASE: a second device object continues where the first stopped.
        using var harness = new QueueHarness(size: 8);
        GuestBuffer[] writable = [new GuestBuffer(harness.AllocateBuffer(4), 4)];
        for (int i = 0; i < 3; i++)
        {
            harness.Driver.Add([], writable);
            harness.Serve();
            Assert.True(harness.Driver.TryGetUsed(out _, out _));
        }

        var interrupt = new CountingInterruptLine();
        var next = new SplitVirtqueue(harness.Memory, 0, 8, interrupt)
        {
            DescriptorTableAddress = harness.Driver.DescriptorTableAddress,
            AvailableRingAddress = harness.Driver.AvailableRingAddress,
            UsedRingAddress = harness.Driver.UsedRingAddress,
            NextAvailableIndex = harness.Device.NextAvailableIndex,
            NextUsedIndex = harness.Device.NextUsedIndex,
        };
        next.Enable(harness.Features);
        Assert.Equal((ushort)3, next.NextAvailableIndex);

        ushort head = harness.Driver.Add([], writable);
        Assert.True(next.TryPop(out DescriptorChain? chain));
        Assert.Equal(head, chain.HeadIndex);
        next.Push(chain, 2);
        next.NotifyGuest();
        Assert.Equal(1, interrupt.Count);
        Assert.True(harness.Driver.TryGetUsed(out ushort used, out uint length));
        Assert.Equal((head, 2u), (used, length));
    }

    [Fact]
    public void QueueResetReturnsToUnconfiguredAndWorksAgain()
    {
        using var harness = new QueueHarness(size: 8, maxSize: 64);
        harness.Driver.Add([new GuestBuffer(harness.AllocateBuffer(4), 4)], []);
        Assert.True(harness.Device.TryPop(out _));

        harness.Device.Reset();
        Assert.False(harness.Device.IsReady);
        Assert.Equal((ushort)64, harness.Device.Size);
        Assert.Equal(0UL, harness.Device.DescriptorTableAddress);
        Assert.Equal((ushort)0, harness.Device.NextAvailableIndex);
        Assert.Equal(0, harness.Device.InFlight);
        Assert.False(harness.Device.TryPop(out _));

        var driver = new DriverVirtqueue(harness.Memory, harness.Allocator, 16, eventIndex: false, indirect: false);
        Assert.True(harness.Device.TrySetSize(16));
        harness.Device.DescriptorTableAddress = driver.DescriptorTableAddress;
        harness.Device.AvailableRingAddress = driver.AvailableRingAddress;
        harness.Device.UsedRingAddress = driver.UsedRingAddress;
        harness.Device.Enable(harness.Features);
        Assert.False(harness.Device.TrySetSize(8));

        ushort head = driver.Add([], [new GuestBuffer(harness.AllocateBuffer(4), 4)]);
        Assert.True(harness.Device.TryPop(out DescriptorChain? chain));
        Assert.Equal(head, chain.HeadIndex);
        harness.Device.Push(chain, 4);
        Assert.True(driver.TryGetUsed(out ushort used, out uint length));
        Assert.Equal((head, 4u), (used, length));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(512)]
    public void SizeMustBeAPowerOfTwoWithinMax(ushort size)
    {
        using var memory = Vmm.Core.Memory.GuestMemory.Create(0x10000);
        var queue = new SplitVirtqueue(memory, 0, 256, new CountingInterruptLine());
        Assert.False(queue.TrySetSize(size));
        Assert.Equal((ushort)256, queue.Size);
        Assert.True(queue.TrySetSize(128));
        Assert.Equal((ushort)128, queue.Size);
    }

    [Fact]
    public void PushingAChainTwiceIsRefused()
    {
        using var harness = new QueueHarness(size: 8);
        harness.Driver.Add([], [new GuestBuffer(harness.AllocateBuffer(4), 4)]);
        Assert.True(harness.Device.TryPop(out DescriptorChain? chain));
        harness.Device.Push(chain, 4);
        Assert.Throws<InvalidOperationException>(() => harness.Device.Push(chain, 4));
    }

    [Fact]
    public void PushingAChainTwice_WhileAnotherIsInFlight_IsRefused_AndTheUsedRingIsUntouched()
    {
        using var harness = new QueueHarness(size: 8);
        harness.Driver.Add([], [new GuestBuffer(harness.AllocateBuffer(4), 4)]);
        harness.Driver.Add([], [new GuestBuffer(harness.AllocateBuffer(4), 4)]);
        Assert.True(harness.Device.TryPop(out DescriptorChain? first));
        Assert.True(harness.Device.TryPop(out DescriptorChain? second));
        harness.Device.Push(first, 4);

        var refused = Assert.Throws<InvalidOperationException>(() => harness.Device.Push(first, 4));

        Assert.Contains("already pushed", refused.Message, StringComparison.Ordinal);
        Assert.Equal((ushort)1, harness.Device.NextUsedIndex);
        Assert.Equal(1, harness.Device.InFlight);
        harness.Device.Push(second, 4);
        Assert.Equal(0, harness.Device.InFlight);
    }

    [Fact]
    public void PushingAChainPoppedFromAnotherQueue_OnTheSameMemory_IsRefused()
    {
        using var harness = new QueueHarness(size: 8);
        var otherDriver = new DriverVirtqueue(harness.Memory, harness.Allocator, 8, eventIndex: false, indirect: false);
        var other = new SplitVirtqueue(harness.Memory, 1, 8, new CountingInterruptLine())
        {
            DescriptorTableAddress = otherDriver.DescriptorTableAddress,
            AvailableRingAddress = otherDriver.AvailableRingAddress,
            UsedRingAddress = otherDriver.UsedRingAddress,
        };
        other.Enable(harness.Features);
        harness.Driver.Add([], [new GuestBuffer(harness.AllocateBuffer(4), 4)]);
        otherDriver.Add([], [new GuestBuffer(harness.AllocateBuffer(4), 4)]);
        Assert.True(harness.Device.TryPop(out DescriptorChain? mine));
        Assert.True(other.TryPop(out DescriptorChain? theirs));
        Assert.Equal(mine.HeadIndex, theirs.HeadIndex);

        var refused = Assert.Throws<InvalidOperationException>(() => harness.Device.Push(theirs, 4));

        Assert.Contains("not taken from queue 0", refused.Message, StringComparison.Ordinal);
        Assert.Equal((ushort)0, harness.Device.NextUsedIndex);
        harness.Device.Push(mine, 4);
        other.Push(theirs, 4);
        Assert.Equal((0, 0), (harness.Device.InFlight, other.InFlight));
    }

    [Fact]
    public void AHeadMadeAvailableAgainWhileInFlight_IsAProtocolError()
    {
        using var harness = new QueueHarness(size: 8);
        ushort head = harness.Driver.Add([], [new GuestBuffer(harness.AllocateBuffer(4), 4)]);
        Assert.True(harness.Device.TryPop(out _));
        // Slot 1 of the available ring names the same head again; the index publishes it.
        harness.Memory.WriteUInt16(harness.Driver.AvailableRingAddress + 4 + 2, head);
        harness.SetAvailableIndex(2);

        Assert.Throws<VirtioProtocolException>(() => harness.Device.TryPop(out _));
    }

    [Fact]
    public void PushingMoreBytesThanWritableIsRefused()
    {
        using var harness = new QueueHarness(size: 8);
        harness.Driver.Add([], [new GuestBuffer(harness.AllocateBuffer(4), 4)]);
        Assert.True(harness.Device.TryPop(out DescriptorChain? chain));
        Assert.Throws<ArgumentOutOfRangeException>(() => harness.Device.Push(chain, 5));
    }

    [Fact]
    public void AllocatorAlignsAndThrowsWhenExhausted()
    {
        using var memory = Vmm.Core.Memory.GuestMemory.Create(0x10000);
        var allocator = new GuestMemoryAllocator(memory, 0x1001, 0x2000);
        ulong first = allocator.Allocate(10, 16);
        Assert.Equal(0x1010UL, first);
        Assert.Equal(0x101AUL, allocator.Allocate(1, 1));
        Assert.Equal(0x1100UL, allocator.Allocate(0x100, 0x100));
        Assert.Throws<InvalidOperationException>(() => allocator.Allocate(0x1000, 8));
        Assert.Throws<ArgumentException>(() => new GuestMemoryAllocator(memory, 0, 0x20000));
    }
}

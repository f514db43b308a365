using Vmm.Contracts.Memory;
using Vmm.Contracts.Virtio;
using Vmm.Core.Memory;
using Vmm.Core.Virtio.Queues;
using Vmm.Testing.Virtio;
using Xunit;

namespace Vmm.Core.Tests.Virtio.Queues;

/// <summary>
/// A device queue and a driver queue over the same 4 MiB of guest memory, enabled and ready; plus helpers to
/// write raw (hostile) descriptors behind the driver's back.
/// </summary>
internal sealed class QueueHarness : IDisposable
{
    public const ulong MemorySize = 4 << 20;
    private ushort _rawAvailableIndex;

    public QueueHarness(ushort size = 16, bool eventIndex = false, bool indirect = false, ushort maxSize = 256)
    {
        Memory = GuestMemory.Create(MemorySize);
        Allocator = new GuestMemoryAllocator(Memory, 0x1000, MemorySize);
        Driver = new DriverVirtqueue(Memory, Allocator, size, eventIndex, indirect);
        Interrupt = new CountingInterruptLine();
        Device = new SplitVirtqueue(Memory, 0, maxSize, Interrupt);
        Assert.True(Device.TrySetSize(size));
        Device.DescriptorTableAddress = Driver.DescriptorTableAddress;
        Device.AvailableRingAddress = Driver.AvailableRingAddress;
        Device.UsedRingAddress = Driver.UsedRingAddress;
        Features = VirtioFeatures.Version1 | (eventIndex ? VirtioFeatures.RingEventIndex : 0) | (indirect ? VirtioFeatures.RingIndirectDescriptors : 0);
        Device.Enable(Features);
    }

    public GuestMemory Memory { get; }

    public GuestMemoryAllocator Allocator { get; }

    public DriverVirtqueue Driver { get; }

    public SplitVirtqueue Device { get; }

    public CountingInterruptLine Interrupt { get; }

    public ulong Features { get; }

    public ulong AllocateBuffer(uint length) => Allocator.Allocate(length, 8);

    /// <summary>Writes descriptor <paramref name="index"/> of the ring's table directly.</summary>
    public void WriteDescriptor(int index, ulong address, uint length, ushort flags, ushort next) =>
        WriteDescriptorAt(Driver.DescriptorTableAddress + (ulong)(index * 16), address, length, flags, next);

    /// <summary>Writes a descriptor at any guest address (an indirect table entry).</summary>
    public void WriteDescriptorAt(ulong at, ulong address, uint length, ushort flags, ushort next)
    {
        Memory.WriteUInt64(at, address);
        Memory.WriteUInt32(at + 8, length);
        Memory.WriteUInt16(at + 12, flags);
        Memory.WriteUInt16(at + 14, next);
    }

    /// <summary>Puts <paramref name="head"/> in the available ring and publishes it, bypassing the driver.</summary>
    public void PublishRaw(ushort head)
    {
        Memory.WriteUInt16(Driver.AvailableRingAddress + 4 + (ulong)(2 * (_rawAvailableIndex & (Driver.Size - 1))), head);
        _rawAvailableIndex++;
        SetAvailableIndex(_rawAvailableIndex);
    }

    public void SetAvailableIndex(ushort index) => Memory.WriteUInt16(Driver.AvailableRingAddress + 2, index);

    /// <summary>Pops one request, fills its writable part with <paramref name="fill"/>, pushes it back.</summary>
    public DescriptorChainSnapshot Serve(byte fill = 0xA5)
    {
        Assert.True(Device.TryPop(out DescriptorChain? chain));
        var snapshot = new DescriptorChainSnapshot(chain.HeadIndex, chain.Readable.ToArray(), chain.Writable.ToArray(), chain.ReadableLength, chain.WritableLength);
        byte[] response = new byte[chain.WritableLength];
        Array.Fill(response, fill);
        int written = chain.Write(0, response);
        Device.Push(chain, (uint)written);
        return snapshot;
    }

    public void Dispose() => Memory.Dispose();
}

internal sealed record DescriptorChainSnapshot(ushort Head, GuestBuffer[] Readable, GuestBuffer[] Writable, long ReadableLength, long WritableLength);

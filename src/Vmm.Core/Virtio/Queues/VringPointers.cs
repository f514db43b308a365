using System.Runtime.CompilerServices;

namespace Vmm.Core.Virtio.Queues;

/// <summary>
/// A split virtqueue's three parts where they are mapped, and each ring field at its <see cref="VringLayout"/>
/// offset: the one place both sides of a queue, the device (<see cref="SplitVirtqueue"/>) and the C# guest driver
/// (Vmm.Testing's DriverVirtqueue), address the rings through. Whoever builds it has checked that the parts lie
/// wholly inside guest memory for <c>size</c> entries; the accessors do no bounds checks of their own.
/// </summary>
internal readonly unsafe struct VringPointers
{
    private readonly byte* _descriptors;
    private readonly byte* _available;
    private readonly byte* _used;
    private readonly int _size;

    public VringPointers(byte* descriptors, byte* available, byte* used, int size)
    {
        _descriptors = descriptors;
        _available = available;
        _used = used;
        _size = size;
    }

    /// <summary>vring_avail.flags.</summary>
    public ref ushort AvailableFlags => ref Unsafe.AsRef<ushort>(_available + VringLayout.RingFlagsOffset);

    /// <summary>vring_avail.idx.</summary>
    public ref ushort AvailableIndex => ref Unsafe.AsRef<ushort>(_available + VringLayout.RingIndexOffset);

    /// <summary>used_event, after the available ring's entries (EVENT_IDX).</summary>
    public ref ushort UsedEvent => ref Unsafe.AsRef<ushort>(_available + VringLayout.UsedEventOffset(_size));

    /// <summary>vring_used.flags.</summary>
    public ref ushort UsedFlags => ref Unsafe.AsRef<ushort>(_used + VringLayout.RingFlagsOffset);

    /// <summary>vring_used.idx.</summary>
    public ref ushort UsedIndex => ref Unsafe.AsRef<ushort>(_used + VringLayout.RingIndexOffset);

    /// <summary>avail_event, after the used ring's elements (EVENT_IDX).</summary>
    public ref ushort AvailableEvent => ref Unsafe.AsRef<ushort>(_used + VringLayout.AvailableEventOffset(_size));

    /// <summary>Descriptor <paramref name="index"/> of the table (below the size).</summary>
    public Span<byte> Descriptor(int index) => new(_descriptors + (index * VringLayout.DescriptorSize), VringLayout.DescriptorSize);

    /// <summary>Entry <paramref name="slot"/> of the available ring (below the size).</summary>
    public Span<byte> AvailableEntry(int slot) =>
        new(_available + VringLayout.RingEntriesOffset + (slot * VringLayout.AvailableElementSize), VringLayout.AvailableElementSize);

    /// <summary>Element <paramref name="slot"/> of the used ring (below the size).</summary>
    public Span<byte> UsedElement(int slot) =>
        new(_used + VringLayout.RingEntriesOffset + (slot * VringLayout.UsedElementSize), VringLayout.UsedElementSize);
}

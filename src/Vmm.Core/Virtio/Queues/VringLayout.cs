using System.Runtime.CompilerServices;

namespace Vmm.Core.Virtio.Queues;

/// <summary>
/// The split virtqueue's byte layout (virtio 1.2 §2.7, linux/virtio_ring.h), checked against the C header by
/// the interop layout test. All fields are little-endian.
/// </summary>
internal static class VringLayout
{
    /// <summary>sizeof(struct vring_desc).</summary>
    public const int DescriptorSize = 16;

    /// <summary>offsetof(struct vring_desc, addr): u64 guest physical address.</summary>
    public const int DescriptorAddressOffset = 0;

    /// <summary>offsetof(struct vring_desc, len): u32.</summary>
    public const int DescriptorLengthOffset = 8;

    /// <summary>offsetof(struct vring_desc, flags): u16.</summary>
    public const int DescriptorFlagsOffset = 12;

    /// <summary>offsetof(struct vring_desc, next): u16.</summary>
    public const int DescriptorNextOffset = 14;

    /// <summary>VRING_DESC_F_NEXT: the chain continues at <c>next</c>.</summary>
    public const ushort DescriptorFlagNext = 1;

    /// <summary>VRING_DESC_F_WRITE: the buffer is device-writable.</summary>
    public const ushort DescriptorFlagWrite = 2;

    /// <summary>VRING_DESC_F_INDIRECT: the buffer is a table of descriptors.</summary>
    public const ushort DescriptorFlagIndirect = 4;

    /// <summary>VRING_AVAIL_F_NO_INTERRUPT: the driver does not want used-buffer interrupts.</summary>
    public const ushort AvailableFlagNoInterrupt = 1;

    /// <summary>VRING_USED_F_NO_NOTIFY: the device does not want available-buffer notifications.</summary>
    public const ushort UsedFlagNoNotify = 1;

    /// <summary>Offset of <c>flags</c> in both rings.</summary>
    public const int RingFlagsOffset = 0;

    /// <summary>Offset of <c>idx</c> in both rings.</summary>
    public const int RingIndexOffset = 2;

    /// <summary>Offset of <c>ring[]</c> in both rings (after flags and idx).</summary>
    public const int RingEntriesOffset = 4;

    /// <summary>sizeof(vring_avail.ring[0]).</summary>
    public const int AvailableElementSize = 2;

    /// <summary>sizeof(struct vring_used_elem): u32 id, u32 len.</summary>
    public const int UsedElementSize = 8;

    /// <summary>offsetof(struct vring_used_elem, len).</summary>
    public const int UsedElementLengthOffset = 4;

    /// <summary>Required alignment of the descriptor table (virtio 1.2 §2.7, table "Virtqueue Part Alignment").</summary>
    public const ulong DescriptorTableAlignment = 16;

    /// <summary>Required alignment of the available ring.</summary>
    public const ulong AvailableRingAlignment = 2;

    /// <summary>Required alignment of the used ring.</summary>
    public const ulong UsedRingAlignment = 4;

    /// <summary>The largest queue size the split layout allows.</summary>
    public const int MaxQueueSize = 32768;

    /// <summary>Throws unless <paramref name="size"/> is a split virtqueue's size: a power of two from 1 to <see cref="MaxQueueSize"/>.</summary>
    public static void ThrowIfInvalidQueueSize(ushort size, [CallerArgumentExpression(nameof(size))] string? paramName = null)
    {
        if (size == 0 || size > MaxQueueSize || !ushort.IsPow2(size))
        {
            throw new ArgumentOutOfRangeException(paramName, size, "A split virtqueue's size is a power of two from 1 to 32768.");
        }
    }

    /// <summary>Bytes of the descriptor table for <paramref name="size"/> entries.</summary>
    public static int DescriptorTableBytes(int size) => DescriptorSize * size;

    /// <summary>Bytes of the available ring, used_event included.</summary>
    public static int AvailableRingBytes(int size) => RingEntriesOffset + (AvailableElementSize * size) + 2;

    /// <summary>Bytes of the used ring, avail_event included.</summary>
    public static int UsedRingBytes(int size) => RingEntriesOffset + (UsedElementSize * size) + 2;

    /// <summary>Offset of used_event in the available ring.</summary>
    public static int UsedEventOffset(int size) => RingEntriesOffset + (AvailableElementSize * size);

    /// <summary>Offset of avail_event in the used ring.</summary>
    public static int AvailableEventOffset(int size) => RingEntriesOffset + (UsedElementSize * size);

    /// <summary>
    /// vring_need_event: whether moving an index from <paramref name="oldIndex"/> to <paramref name="newIndex"/>
    /// crossed <paramref name="eventIndex"/> (the other side asked to be told once it passes that entry).
    /// </summary>
    public static bool NeedEvent(ushort eventIndex, ushort newIndex, ushort oldIndex) =>
        (ushort)(newIndex - eventIndex - 1) < (ushort)(newIndex - oldIndex);
}

namespace Vmm.Contracts.Virtio;

/// <summary>Device-independent feature bits (virtio 1.2 §6). Device-specific bits are 0 to 23.</summary>
public static class VirtioFeatures
{
    /// <summary>VIRTIO_F_RING_INDIRECT_DESC (28): descriptors may point to an indirect table.</summary>
    public const ulong RingIndirectDescriptors = 1UL << 28;

    /// <summary>VIRTIO_F_RING_EVENT_IDX (29): used_event / avail_event notification suppression.</summary>
    public const ulong RingEventIndex = 1UL << 29;

    /// <summary>VIRTIO_F_VERSION_1 (32): a modern (virtio 1.x) device. Always offered by the transports.</summary>
    public const ulong Version1 = 1UL << 32;

    /// <summary>VIRTIO_F_ACCESS_PLATFORM (33): the device is behind an IOMMU. Not offered.</summary>
    public const ulong AccessPlatform = 1UL << 33;

    /// <summary>VIRTIO_F_RING_PACKED (34): packed virtqueues. Not offered.</summary>
    public const ulong RingPacked = 1UL << 34;

    /// <summary>VIRTIO_F_IN_ORDER (35).</summary>
    public const ulong InOrder = 1UL << 35;

    /// <summary>VIRTIO_F_RING_RESET (40): individual queues can be reset.</summary>
    public const ulong RingReset = 1UL << 40;
}

namespace Vmm.Core.Virtio.Pci;

/// <summary>
/// Where the modern virtio-pci transport puts its structures (the Firecracker / cloud-hypervisor layout): one
/// 64-bit memory BAR0 of 512 KiB, shared memory in a 64-bit prefetchable BAR2.
/// </summary>
public static class VirtioPciLayout
{
    /// <summary>PCI vendor id of virtio devices.</summary>
    public const ushort VendorId = 0x1AF4;

    /// <summary>Modern device ids are this plus the virtio device type.</summary>
    public const ushort DeviceIdBase = 0x1040;

    /// <summary>The BAR holding common config, ISR, device config, notify and MSI-X.</summary>
    public const int RegistersBar = 0;

    /// <summary>The BAR holding the shared-memory regions.</summary>
    public const int SharedMemoryBar = 2;

    /// <summary>BAR0's size.</summary>
    public const ulong RegistersBarSize = 0x8_0000;

    /// <summary>Common configuration (virtio_pci_common_cfg).</summary>
    public const ulong CommonConfigOffset = 0x0000;

    /// <summary>The length of the common configuration structure advertised (virtio 1.0 fields only).</summary>
    public const uint CommonConfigLength = 0x38;

    /// <summary>The ISR status byte.</summary>
    public const ulong IsrOffset = 0x2000;

    /// <summary>Device-specific configuration.</summary>
    public const ulong DeviceConfigOffset = 0x4000;

    /// <summary>The space reserved for device configuration.</summary>
    public const uint DeviceConfigLength = 0x1000;

    /// <summary>Queue doorbells: queue q at <c>NotifyOffset + q * NotifyOffMultiplier</c>.</summary>
    public const ulong NotifyOffset = 0x6000;

    /// <summary>The space reserved for doorbells.</summary>
    public const uint NotifyLength = 0x1000;

    /// <summary>notify_off_multiplier.</summary>
    public const uint NotifyOffMultiplier = 4;

    /// <summary>The MSI-X table.</summary>
    public const ulong MsixTableOffset = 0x8000;

    /// <summary>The MSI-X pending-bit array.</summary>
    public const ulong MsixPendingBitArrayOffset = 0x4_8000;

    /// <summary>The vector value that means "no vector" (VIRTIO_MSI_NO_VECTOR).</summary>
    public const ushort NoVector = 0xFFFF;
}

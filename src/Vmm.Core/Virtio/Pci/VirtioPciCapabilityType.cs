namespace Vmm.Core.Virtio.Pci;

/// <summary>cfg_type values of virtio_pci_cap (virtio 1.2 §4.1.4).</summary>
public enum VirtioPciCapabilityType : byte
{
    /// <summary>VIRTIO_PCI_CAP_COMMON_CFG.</summary>
    CommonConfig = 1,

    /// <summary>VIRTIO_PCI_CAP_NOTIFY_CFG.</summary>
    NotifyConfig = 2,

    /// <summary>VIRTIO_PCI_CAP_ISR_CFG.</summary>
    IsrConfig = 3,

    /// <summary>VIRTIO_PCI_CAP_DEVICE_CFG.</summary>
    DeviceConfig = 4,

    /// <summary>VIRTIO_PCI_CAP_PCI_CFG.</summary>
    PciConfig = 5,

    /// <summary>VIRTIO_PCI_CAP_SHARED_MEMORY_CFG.</summary>
    SharedMemoryConfig = 8,
}

namespace Vmm.Contracts.Virtio;

/// <summary>A shared-memory region a device asks its transport for (VIRTIO_PCI_CAP_SHARED_MEMORY_CFG).</summary>
/// <param name="Id">The region id the device type defines (virtio-fs DAX: 0, virtio-gpu host-visible: 1).</param>
/// <param name="Size">The size in bytes; a multiple of 2 MiB so DAX ranges and huge pages fit.</param>
public readonly record struct SharedMemoryRegionRequest(byte Id, ulong Size)
{
    /// <summary>virtio-fs DAX cache window (VIRTIO_FS_SHMCAP_ID_CACHE).</summary>
    public const byte VirtioFsCacheId = 0;

    /// <summary>virtio-gpu host-visible memory (VIRTIO_GPU_SHM_ID_HOST_VISIBLE).</summary>
    public const byte VirtioGpuHostVisibleId = 1;
}

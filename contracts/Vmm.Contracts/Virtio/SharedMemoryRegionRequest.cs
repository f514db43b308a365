namespace Vmm.Contracts.Virtio;

/// <summary>A shared-memory region a device asks its transport for (VIRTIO_PCI_CAP_SHARED_MEMORY_CFG).</summary>
/// <param name="Id">The region id, as the device type's specification defines it (each device declares its own ids).</param>
/// <param name="Size">The size in bytes; a multiple of 2 MiB so DAX ranges and huge pages fit.</param>
public readonly record struct SharedMemoryRegionRequest(byte Id, ulong Size);

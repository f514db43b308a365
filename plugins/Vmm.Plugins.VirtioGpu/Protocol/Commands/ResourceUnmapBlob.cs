using System.Runtime.InteropServices;

namespace Vmm.Plugins.VirtioGpu.Protocol.Commands;

/// <summary>
/// RESOURCE_UNMAP_BLOB (struct virtio_gpu_resource_unmap_blob, 32 bytes): resource_id @24, padding @28.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal readonly record struct ResourceUnmapBlob(uint ResourceId, uint Padding);

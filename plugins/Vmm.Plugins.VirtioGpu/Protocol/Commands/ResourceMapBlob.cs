using System.Runtime.InteropServices;

namespace Vmm.Plugins.VirtioGpu.Protocol.Commands;

/// <summary>
/// RESOURCE_MAP_BLOB (struct virtio_gpu_resource_map_blob, 40 bytes): resource_id @24, padding @28,
/// offset (u64) @32 into the host-visible window.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal readonly record struct ResourceMapBlob(uint ResourceId, uint Padding, ulong Offset);

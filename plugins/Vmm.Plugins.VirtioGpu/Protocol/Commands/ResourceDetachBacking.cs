using System.Runtime.InteropServices;

namespace Vmm.Plugins.VirtioGpu.Protocol.Commands;

/// <summary>
/// RESOURCE_DETACH_BACKING (struct virtio_gpu_resource_detach_backing, 32 bytes): resource_id @24, padding @28.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal readonly record struct ResourceDetachBacking(uint ResourceId, uint Padding);

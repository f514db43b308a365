using System.Runtime.InteropServices;

namespace Vmm.Plugins.VirtioGpu.Protocol.Commands;

/// <summary>
/// RESOURCE_FLUSH (struct virtio_gpu_resource_flush, 48 bytes): r @24, resource_id @40, padding @44.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal readonly record struct ResourceFlush(GpuRect Rect, uint ResourceId, uint Padding);

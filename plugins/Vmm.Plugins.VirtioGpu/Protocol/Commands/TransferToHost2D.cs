using System.Runtime.InteropServices;

namespace Vmm.Plugins.VirtioGpu.Protocol.Commands;

/// <summary>
/// TRANSFER_TO_HOST_2D (struct virtio_gpu_transfer_to_host_2d, 56 bytes): r @24, offset (u64) @40 into the
/// backing, resource_id @48, padding @52.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal readonly record struct TransferToHost2D(GpuRect Rect, ulong Offset, uint ResourceId, uint Padding);

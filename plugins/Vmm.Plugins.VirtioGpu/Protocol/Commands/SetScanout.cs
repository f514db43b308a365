using System.Runtime.InteropServices;

namespace Vmm.Plugins.VirtioGpu.Protocol.Commands;

/// <summary>
/// SET_SCANOUT (struct virtio_gpu_set_scanout, 48 bytes): r @24 (the shown part of the resource),
/// scanout_id @40, resource_id @44 (0 disables the scanout).
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal readonly record struct SetScanout(GpuRect Rect, uint ScanoutId, uint ResourceId);

using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Vmm.Plugins.VirtioGpu.Protocol.Commands;

/// <summary>
/// SET_SCANOUT_BLOB (struct virtio_gpu_set_scanout_blob, 96 bytes): r @24, scanout_id @40, resource_id @44,
/// width @48, height @52, format @56, padding @60, strides[4] @64, offsets[4] @80. Only plane 0 is used.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal readonly record struct SetScanoutBlob(
    GpuRect Rect, uint ScanoutId, uint ResourceId, uint Width, uint Height, uint Format, uint Padding, PlaneValues Strides, PlaneValues Offsets);

/// <summary>One u32 for each of the four planes a scanout blob may describe.</summary>
[InlineArray(4)]
internal struct PlaneValues
{
    private uint _plane;
}

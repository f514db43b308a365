using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Vmm.Plugins.VirtioGpu.Protocol.Responses;

/// <summary>One scanout's entry (struct virtio_gpu_display_one, 24 bytes): r @0, enabled @16, flags @20.</summary>
[StructLayout(LayoutKind.Sequential)]
internal readonly record struct DisplayOne(GpuRect Rect, uint Enabled, uint Flags);

/// <summary>OK_DISPLAY_INFO (struct virtio_gpu_resp_display_info, 408 bytes): pmodes[VIRTIO_GPU_MAX_SCANOUTS] @24.</summary>
[InlineArray(GpuLayout.MaxScanouts)]
internal struct DisplayInfoResponse
{
    private DisplayOne _mode;
}

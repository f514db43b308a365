using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Vmm.Plugins.VirtioGpu.Protocol.Responses;

/// <summary>OK_DISPLAY_INFO (struct virtio_gpu_resp_display_info, 408 bytes): pmodes[16] @24, 24 bytes each.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct DisplayInfoResponse
{
    public DisplayModes Modes;
}

/// <summary>One scanout's entry (struct virtio_gpu_display_one): r @0, enabled @16, flags @20.</summary>
[StructLayout(LayoutKind.Sequential)]
internal record struct DisplayOne(GpuRect Rect, uint Enabled, uint Flags);

/// <summary>VIRTIO_GPU_MAX_SCANOUTS display entries.</summary>
[InlineArray(GpuLayout.MaxScanouts)]
internal struct DisplayModes
{
    private DisplayOne _mode;
}

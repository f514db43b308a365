using System.Runtime.InteropServices;

namespace Vmm.Plugins.VirtioGpu.Protocol.Responses;

/// <summary>OK_MAP_INFO (struct virtio_gpu_resp_map_info, 32 bytes): map_info @24 (VIRTIO_GPU_MAP_CACHE_*), padding @28.</summary>
[StructLayout(LayoutKind.Sequential)]
internal readonly record struct MapInfoResponse(uint MapInfo, uint Padding = 0);

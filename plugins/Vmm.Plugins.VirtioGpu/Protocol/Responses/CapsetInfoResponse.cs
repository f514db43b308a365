using System.Runtime.InteropServices;

namespace Vmm.Plugins.VirtioGpu.Protocol.Responses;

/// <summary>OK_CAPSET_INFO (struct virtio_gpu_resp_capset_info, 40 bytes): capset_id @24, capset_max_version @28, capset_max_size @32, padding @36.</summary>
[StructLayout(LayoutKind.Sequential)]
internal readonly record struct CapsetInfoResponse(uint CapsetId, uint MaxVersion, uint MaxSize, uint Padding = 0);

using System.Runtime.InteropServices;

namespace Vmm.Plugins.VirtioGpu.Protocol.Commands;

/// <summary>
/// GET_CAPSET (struct virtio_gpu_get_capset, 32 bytes): capset_id @24, capset_version @28.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal readonly record struct GetCapset(uint CapsetId, uint CapsetVersion);

using System.Runtime.InteropServices;

namespace Vmm.Plugins.VirtioGpu.Protocol.Commands;

/// <summary>
/// GET_CAPSET_INFO (struct virtio_gpu_get_capset_info, 32 bytes): capset_index @24, padding @28.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal readonly record struct GetCapsetInfo(uint CapsetIndex, uint Padding);

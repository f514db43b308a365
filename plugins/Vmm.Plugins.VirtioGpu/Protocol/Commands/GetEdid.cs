using System.Runtime.InteropServices;

namespace Vmm.Plugins.VirtioGpu.Protocol.Commands;

/// <summary>
/// GET_EDID (struct virtio_gpu_cmd_get_edid, 32 bytes): scanout @24, padding @28.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal readonly record struct GetEdid(uint Scanout, uint Padding);

using System.Runtime.InteropServices;

namespace Vmm.Plugins.VirtioGpu.Protocol.Commands;

/// <summary>
/// SUBMIT_3D (struct virtio_gpu_cmd_submit, 32 bytes): size @24, num_in_fences @28; size bytes of the
/// context's command stream follow at 32.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal readonly record struct Submit3D(uint Size, uint InFenceCount);

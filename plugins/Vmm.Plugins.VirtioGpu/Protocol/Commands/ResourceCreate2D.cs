using System.Runtime.InteropServices;

namespace Vmm.Plugins.VirtioGpu.Protocol.Commands;

/// <summary>
/// RESOURCE_CREATE_2D (struct virtio_gpu_resource_create_2d, 40 bytes):
/// resource_id @24, format @28, width @32, height @36.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal readonly record struct ResourceCreate2D(uint ResourceId, uint Format, uint Width, uint Height);

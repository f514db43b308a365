using System.Runtime.InteropServices;

namespace Vmm.Plugins.VirtioGpu.Protocol.Commands;

/// <summary>
/// RESOURCE_UNREF (struct virtio_gpu_resource_unref, 32 bytes): resource_id @24, padding @28.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal readonly record struct ResourceUnref(uint ResourceId, uint Padding);

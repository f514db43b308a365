using System.Runtime.InteropServices;

namespace Vmm.Plugins.VirtioGpu.Protocol.Commands;

/// <summary>
/// RESOURCE_ATTACH_BACKING (struct virtio_gpu_resource_attach_backing, 32 bytes): resource_id @24,
/// nr_entries @28; nr_entries <see cref="GpuMemEntry"/>s follow at 32.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal readonly record struct ResourceAttachBacking(uint ResourceId, uint EntryCount);

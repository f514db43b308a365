using System.Runtime.InteropServices;

namespace Vmm.Plugins.VirtioGpu.Protocol.Commands;

/// <summary>
/// RESOURCE_CREATE_BLOB (struct virtio_gpu_resource_create_blob, 56 bytes): resource_id @24, blob_mem @28,
/// blob_flags @32, nr_entries @36, blob_id (u64) @40, size (u64) @48; nr_entries <see cref="GpuMemEntry"/>s follow at 56.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal readonly record struct ResourceCreateBlob(uint ResourceId, uint MemoryType, uint Flags, uint EntryCount, ulong BlobId, ulong Size);

using System.Runtime.InteropServices;

namespace Vmm.Plugins.VirtioGpu.Protocol.Commands;

/// <summary>
/// CTX_DETACH_RESOURCE (struct virtio_gpu_ctx_resource, 32 bytes): resource_id @24, padding @28; the
/// context is hdr.ctx_id.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal readonly record struct ContextDetachResource(uint ResourceId, uint Padding);

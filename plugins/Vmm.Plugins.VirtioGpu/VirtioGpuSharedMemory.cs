namespace Vmm.Plugins.VirtioGpu;

/// <summary>The shared-memory region ids virtio-gpu defines (virtio 1.2 §5.7.3).</summary>
internal static class VirtioGpuSharedMemory
{
    /// <summary>Host-visible memory for blob resources (VIRTIO_GPU_SHM_ID_HOST_VISIBLE).</summary>
    public const byte HostVisibleId = 1;
}

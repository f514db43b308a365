namespace Vmm.Plugins.VirtioFs;

/// <summary>The shared-memory region ids virtio-fs defines (virtio 1.2 §5.11.5).</summary>
internal static class VirtioFsSharedMemory
{
    /// <summary>The DAX cache window (VIRTIO_FS_SHMCAP_ID_CACHE).</summary>
    public const byte CacheId = 0;
}

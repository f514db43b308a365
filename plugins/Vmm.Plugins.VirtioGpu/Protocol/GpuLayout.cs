namespace Vmm.Plugins.VirtioGpu.Protocol;

/// <summary>Config space, flags and feature bits of the virtio-gpu wire format (include/uapi/linux/virtio_gpu.h).</summary>
internal static class GpuLayout
{
    /// <summary>
    /// struct virtio_gpu_config (16 bytes): events_read @0, events_clear @4 (write 1 to clear), num_scanouts @8,
    /// num_capsets @12.
    /// </summary>
    public const int ConfigSize = 16;
    public const int ConfigEventsRead = 0;
    public const int ConfigEventsClear = 4;
    public const int ConfigScanoutCount = 8;
    public const int ConfigCapsetCount = 12;

    public const int MaxScanouts = 16;

    public const uint FlagFence = 1 << 0;
    public const uint FlagInfoRingIndex = 1 << 1;

    public const uint EventDisplay = 1 << 0;

    public const ulong FeatureVirgl = 1UL << 0;
    public const ulong FeatureEdid = 1UL << 1;
    public const ulong FeatureResourceBlob = 1UL << 3;
    public const ulong FeatureContextInit = 1UL << 4;
    public const int MaxRings = 64;

    /// <summary>VIRTIO_GPU_BLOB_MEM_*: where a blob's bytes live.</summary>
    public const uint BlobMemGuest = 1;
    public const uint BlobMemHost3D = 2;
    public const uint BlobMemHost3DGuest = 3;

    /// <summary>VIRTIO_GPU_BLOB_FLAG_*.</summary>
    public const uint BlobFlagMappable = 1;
    public const uint BlobFlagShareable = 2;
    public const uint BlobFlagCrossDevice = 4;
    public const uint BlobFlagsKnown = BlobFlagMappable | BlobFlagShareable | BlobFlagCrossDevice;

    /// <summary>VIRTIO_GPU_MAP_CACHE_CACHED: host blobs are ordinary cached memory (memfds).</summary>
    public const uint MapCacheCached = 1;

    /// <summary>VIRTIO_GPU_SHM_ID_HOST_VISIBLE.</summary>
    public const byte HostVisibleRegionId = 1;

    /// <summary>Every virtio-gpu 2D format is 4 bytes a pixel.</summary>
    public const int BytesPerPixel = 4;
}

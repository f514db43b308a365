namespace Vmm.Plugins.VirtioGpu.Protocol;

/// <summary>Sizes, flags and feature bits of the virtio-gpu wire format (include/uapi/linux/virtio_gpu.h).</summary>
internal static class GpuLayout
{
    public const int HeaderSize = 24;
    public const int ConfigSize = 16;
    public const int MaxScanouts = 16;
    public const int DisplayOneSize = 24;
    public const int DisplayInfoResponseSize = HeaderSize + (MaxScanouts * DisplayOneSize);
    public const int EdidResponseSize = HeaderSize + 8 + 1024;
    public const int MemEntrySize = 16;
    public const int CursorCommandSize = 56;

    public const uint FlagFence = 1 << 0;
    public const uint FlagInfoRingIndex = 1 << 1;

    public const uint EventDisplay = 1 << 0;

    public const ulong FeatureVirgl = 1UL << 0;
    public const ulong FeatureEdid = 1UL << 1;
    public const ulong FeatureResourceBlob = 1UL << 3;
    public const ulong FeatureContextInit = 1UL << 4;
    public const int MaxRings = 64;

    public const int CreateBlobSize = 56;
    public const int SetScanoutBlobSize = 96;
    public const int MapBlobSize = 40;
    public const int MapInfoResponseSize = HeaderSize + 8;

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

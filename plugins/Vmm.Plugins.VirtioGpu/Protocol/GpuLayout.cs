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
    public const ulong FeatureContextInit = 1UL << 4;
    public const int MaxRings = 64;

    /// <summary>Every virtio-gpu 2D format is 4 bytes a pixel.</summary>
    public const int BytesPerPixel = 4;
}

namespace Vmm.Plugins.VirtioGpu;

/// <summary>The options of a <c>virtio-gpu</c> device.</summary>
public sealed class VirtioGpuOptions
{
    /// <summary>The largest width or height a scanout mode may have (the EDID detailed-timing field is 12 bits).</summary>
    public const int MaxModeDimension = 4095;

    /// <summary>The most scanouts virtio-gpu allows (VIRTIO_GPU_MAX_SCANOUTS).</summary>
    public const int MaxScanouts = 16;

    /// <summary>One mode per scanout; the default is one 1280x800 scanout.</summary>
    public IList<VirtioGpuModeOptions> Scanouts { get; set; } = [new VirtioGpuModeOptions()];

    /// <summary>Whether to offer VIRTIO_GPU_F_EDID (the guest then reads an EDID per scanout).</summary>
    public bool Edid { get; set; } = true;

    /// <summary>The most resources the guest may hold at once.</summary>
    public int MaxResources { get; set; } = 1024;

    /// <summary>The most host bytes all resources together may use.</summary>
    public long MaxResourceBytes { get; set; } = 256L << 20;

    /// <summary>The most guest memory runs one ATTACH_BACKING may name.</summary>
    public int MaxBackingEntries { get; set; } = 16384;
}

/// <summary>A scanout's mode.</summary>
public sealed class VirtioGpuModeOptions
{
    /// <summary>Width in pixels.</summary>
    public int Width { get; set; } = 1280;

    /// <summary>Height in pixels.</summary>
    public int Height { get; set; } = 800;
}

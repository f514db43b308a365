namespace Vmm.Plugins.VirtioGpu;

/// <summary>The options of a <c>virtio-gpu</c> device.</summary>
public sealed class VirtioGpuOptions
{
    /// <summary>The largest width or height a scanout mode may have (the EDID detailed-timing field is 12 bits).</summary>
    public const int MaxModeDimension = 4095;

    /// <summary>The most scanouts virtio-gpu allows (VIRTIO_GPU_MAX_SCANOUTS).</summary>
    public const int MaxScanouts = 16;

    /// <summary>The granularity of <see cref="HostVisibleWindowSize"/> (2 MiB, so huge pages fit).</summary>
    public const ulong HostVisibleWindowAlignment = 2UL << 20;

    /// <summary>The largest <see cref="HostVisibleWindowSize"/> (1 TiB of guest physical address space).</summary>
    public const ulong MaxHostVisibleWindowSize = 1UL << 40;

    /// <summary>One mode per scanout; the default is one 1280x800 scanout.</summary>
    public IList<VirtioGpuModeOptions> Scanouts { get; set; } = [new VirtioGpuModeOptions()];

    /// <summary>Whether to offer VIRTIO_GPU_F_EDID (the guest then reads an EDID per scanout).</summary>
    public bool Edid { get; set; } = true;

    /// <summary>The most resources the guest may hold at once.</summary>
    public int MaxResources { get; set; } = 1024;

    /// <summary>The most host bytes all resources together may use.</summary>
    public long MaxResourceBytes { get; set; } = 256L << 20;

    /// <summary>The most guest memory runs one ATTACH_BACKING or RESOURCE_CREATE_BLOB may name.</summary>
    public int MaxBackingEntries { get; set; } = 16384;

    /// <summary>
    /// Whether to offer VIRTIO_GPU_F_RESOURCE_BLOB: RESOURCE_CREATE_BLOB, SET_SCANOUT_BLOB and, with a host-visible
    /// window, MAP/UNMAP_BLOB. Without VIRGL (no context types) a Linux guest then makes its dumb buffers (fbcon,
    /// KMS clients) guest blobs that are shown straight from guest memory.
    /// </summary>
    public bool ResourceBlob { get; set; } = true;

    /// <summary>
    /// Whether a 2D resource whose guest backing is one contiguous range laid out as the resource is shown straight
    /// from that backing (TRANSFER_TO_HOST_2D with Linux's offsets copies nothing; a flush shows the backing's bytes
    /// as they are then, as for a guest blob): one copy per frame instead of two. False keeps a host copy that changes
    /// only on TRANSFER_TO_HOST_2D, exactly as the spec describes.
    /// </summary>
    public bool MirrorBacking { get; set; } = true;

    /// <summary>
    /// The size in bytes of the host-visible shared-memory window (region 1) into which MAP_BLOB maps host blobs;
    /// 0 (the default) asks for none. A multiple of 2 MiB. Platforms that cannot map device memory into the guest
    /// (vhost-user through QEMU) leave the device without the window: MAP_BLOB then fails with an error reply.
    /// </summary>
    public ulong HostVisibleWindowSize { get; set; }
}

/// <summary>A scanout's mode.</summary>
public sealed class VirtioGpuModeOptions
{
    /// <summary>Width in pixels.</summary>
    public int Width { get; set; } = 1280;

    /// <summary>Height in pixels.</summary>
    public int Height { get; set; } = 800;
}

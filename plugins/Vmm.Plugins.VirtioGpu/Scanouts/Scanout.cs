
namespace Vmm.Plugins.VirtioGpu.Scanouts;

/// <summary>One scanout: its advertised mode and what SET_SCANOUT or SET_SCANOUT_BLOB put on it (resource 0: disabled).</summary>
internal sealed class Scanout
{
    private byte[]? _shadow;
    private int _shadowLength;

    public Scanout(int width, int height)
    {
        Width = width;
        Height = height;
    }

    /// <summary>The mode GET_DISPLAY_INFO and the EDID advertise.</summary>
    public int Width { get; set; }

    /// <summary>The mode GET_DISPLAY_INFO and the EDID advertise.</summary>
    public int Height { get; set; }

    public uint ResourceId { get; private set; }

    /// <summary>The part of the resource shown (the source rect of SET_SCANOUT / SET_SCANOUT_BLOB).</summary>
    public GpuRect Rect { get; private set; }

    /// <summary>How a blob's bytes form the framebuffer; null for a 2D resource.</summary>
    public BlobFramebuffer? Blob { get; private set; }

    /// <summary>Where a blob scanout's frames are read from (decided at SET_SCANOUT_BLOB).</summary>
    public BlobSource BlobSource { get; private set; }

    /// <summary>
    /// Whether the shadow holds what the blob held at each part's last flush, so a frame from it needs only its
    /// damage read. False for a new shadow and after a frame went out in segments (its damage skipped the shadow).
    /// </summary>
    public bool ShadowCurrent { get; set; }

    /// <summary>Bytes a row of a blob scanout's frames and shadow: tightly packed for <see cref="BlobSource.Shadow"/>, else the framebuffer's stride.</summary>
    public int BlobStride => BlobSource == BlobSource.Shadow ? (int)Rect.Width * GpuLayout.BytesPerPixel : (int)Blob!.Value.Stride;

    public void ShowResource(uint resourceId, GpuRect rect)
    {
        ResourceId = resourceId;
        Rect = rect;
        Blob = null;
        BlobSource = BlobSource.Direct;
        (_shadow, _shadowLength, ShadowCurrent) = (null, 0, false);
    }

    /// <summary>
    /// Shows a blob; <paramref name="shadowLength"/>: the bytes of the shadow frames are read from when the blob cannot
    /// hand them over itself (0 for <see cref="BlobSource.Direct"/>). A shadow already allocated at that length is kept.
    /// </summary>
    public void ShowBlob(uint resourceId, GpuRect rect, BlobFramebuffer framebuffer, BlobSource source, int shadowLength)
    {
        ResourceId = resourceId;
        Rect = rect;
        Blob = framebuffer;
        BlobSource = source;
        if (_shadow is not null && _shadow.Length != shadowLength)
        {
            _shadow = null;
        }

        _shadowLength = shadowLength;
        ShadowCurrent = false;
    }

    /// <summary>
    /// The shadow: the shown rect at <see cref="BlobStride"/>, the surface of a frame read from it. Allocated on
    /// first use: a scanout whose frames all go out straight from guest memory or in segments never needs one.
    /// </summary>
    public byte[] GetShadow() => _shadow ??= new byte[_shadowLength];

    public void Disable() => ShowResource(0, default);
}


namespace Vmm.Plugins.VirtioGpu.Scanouts;

/// <summary>One scanout: its advertised mode and what SET_SCANOUT or SET_SCANOUT_BLOB put on it (resource 0: disabled).</summary>
internal sealed class Scanout
{
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

    /// <summary>
    /// The host copy of the shown rect (tightly packed) for a blob whose bytes are not one span of guest memory;
    /// flushes refresh only its damaged rows. Null when frames are published straight from guest memory.
    /// </summary>
    public byte[]? Shadow { get; private set; }

    public void ShowResource(uint resourceId, GpuRect rect)
    {
        ResourceId = resourceId;
        Rect = rect;
        Blob = null;
        Shadow = null;
    }

    public void ShowBlob(uint resourceId, GpuRect rect, BlobFramebuffer framebuffer, byte[]? shadow)
    {
        ResourceId = resourceId;
        Rect = rect;
        Blob = framebuffer;
        Shadow = shadow;
    }

    public void Disable() => ShowResource(0, default);
}

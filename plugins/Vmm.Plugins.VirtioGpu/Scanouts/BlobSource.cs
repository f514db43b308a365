namespace Vmm.Plugins.VirtioGpu.Scanouts;

/// <summary>Where the frames of a blob scanout are read from.</summary>
internal enum BlobSource
{
    /// <summary>Straight from guest memory: the shown rect's bytes are one span there (one copy, the sink's).</summary>
    Direct,

    /// <summary>
    /// A guest blob whose pages are scattered: segments over its guest runs for a sink that takes segmented frames (one
    /// copy, the sink's), the damage gathered into the shadow, at the framebuffer's stride, for any other sink.
    /// </summary>
    Segments,

    /// <summary>Only the shadow (tightly packed): a host blob, or a surface the segments cannot describe.</summary>
    Shadow,
}

namespace Vmm.Contracts.Display;

/// <summary>32-bit pixel formats, named by byte order in memory (as virtio-gpu and DRM name them).</summary>
public enum PixelFormat
{
    /// <summary>Bytes B, G, R, A.</summary>
    B8G8R8A8 = 1,

    /// <summary>Bytes B, G, R, unused.</summary>
    B8G8R8X8 = 2,

    /// <summary>Bytes A, R, G, B.</summary>
    A8R8G8B8 = 3,

    /// <summary>Bytes unused, R, G, B.</summary>
    X8R8G8B8 = 4,

    /// <summary>Bytes R, G, B, A.</summary>
    R8G8B8A8 = 67,

    /// <summary>Bytes unused, B, G, R.</summary>
    X8B8G8R8 = 68,

    /// <summary>Bytes A, B, G, R.</summary>
    A8B8G8R8 = 121,

    /// <summary>Bytes R, G, B, unused.</summary>
    R8G8B8X8 = 134,
}

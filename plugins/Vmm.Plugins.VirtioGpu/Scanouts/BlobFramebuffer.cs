using Vmm.Contracts.Display;

namespace Vmm.Plugins.VirtioGpu.Scanouts;

/// <summary>The single-plane framebuffer SET_SCANOUT_BLOB describes: plane 0's stride and offset within the blob.</summary>
internal readonly record struct BlobFramebuffer(PixelFormat Format, uint Width, uint Height, uint Stride, uint Offset)
{
    /// <summary>The blob offset of pixel (<paramref name="x"/>, <paramref name="y"/>); inside the blob once validated.</summary>
    public ulong OffsetOf(uint x, uint y) => Offset + ((ulong)y * Stride) + ((ulong)x * GpuLayout.BytesPerPixel);
}

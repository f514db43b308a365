using Vmm.Contracts.Display;

namespace Vmm.Plugins.VirtioGpu.Resources;

/// <summary>A 2D resource: its host copy of the pixels (what scanouts show) and its optional guest backing.</summary>
internal sealed class GpuResource2D(uint id, PixelFormat format, uint width, uint height, byte[] pixels) : GpuResource(id)
{
    public PixelFormat Format { get; } = format;

    public uint Width { get; } = width;

    public uint Height { get; } = height;

    /// <summary>Bytes a row; 2D resources are tightly packed.</summary>
    public int Stride => (int)Width * Protocol.GpuLayout.BytesPerPixel;

    public byte[] Pixels { get; } = pixels;

    public GuestBacking? Backing { get; set; }

    public override long ChargedBytes => Pixels.LongLength;
}

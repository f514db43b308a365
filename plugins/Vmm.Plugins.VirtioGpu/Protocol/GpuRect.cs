using System.Buffers.Binary;

namespace Vmm.Plugins.VirtioGpu.Protocol;

/// <summary>struct virtio_gpu_rect: x, y, width, height (u32 each), as the guest sent them.</summary>
internal readonly record struct GpuRect(uint X, uint Y, uint Width, uint Height)
{
    public static GpuRect Read(ReadOnlySpan<byte> source) => new(
        BinaryPrimitives.ReadUInt32LittleEndian(source),
        BinaryPrimitives.ReadUInt32LittleEndian(source[4..]),
        BinaryPrimitives.ReadUInt32LittleEndian(source[8..]),
        BinaryPrimitives.ReadUInt32LittleEndian(source[12..]));

    public bool IsEmpty => Width == 0 || Height == 0;

    /// <summary>Whether the rect lies inside a <paramref name="width"/> x <paramref name="height"/> surface; computed in 64 bits so no sum wraps.</summary>
    public bool FitsIn(uint width, uint height)
        => (ulong)X + Width <= width && (ulong)Y + Height <= height;
}

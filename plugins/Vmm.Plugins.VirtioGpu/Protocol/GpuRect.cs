using System.Runtime.InteropServices;

namespace Vmm.Plugins.VirtioGpu.Protocol;

/// <summary>struct virtio_gpu_rect (16 bytes): x @0, y @4, width @8, height @12, as the guest sent them.</summary>
[StructLayout(LayoutKind.Sequential)]
internal readonly record struct GpuRect(uint X, uint Y, uint Width, uint Height)
{
    public bool IsEmpty => Width == 0 || Height == 0;

    /// <summary>Whether the rect lies inside a <paramref name="width"/> x <paramref name="height"/> surface; computed in 64 bits so no sum wraps.</summary>
    public bool FitsIn(uint width, uint height)
        => (ulong)X + Width <= width && (ulong)Y + Height <= height;

    /// <summary>The part of this rect inside <paramref name="shown"/>, relative to <paramref name="shown"/>'s origin; false when they do not meet.</summary>
    public bool TryClipTo(GpuRect shown, out GpuRect clipped)
    {
        long left = Math.Max(X, shown.X);
        long top = Math.Max(Y, shown.Y);
        long right = Math.Min((long)X + Width, (long)shown.X + shown.Width);
        long bottom = Math.Min((long)Y + Height, (long)shown.Y + shown.Height);
        clipped = right > left && bottom > top
            ? new GpuRect((uint)(left - shown.X), (uint)(top - shown.Y), (uint)(right - left), (uint)(bottom - top))
            : default;
        return !clipped.IsEmpty;
    }
}

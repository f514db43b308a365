using Vmm.Contracts.Display;

namespace Vmm.Plugins.VirtioGpu.Protocol;

/// <summary>enum virtio_gpu_formats: the eight 32-bit formats Linux uses, which the contract's PixelFormat mirrors by value.</summary>
internal static class GpuFormats
{
    public static bool TryGet(uint value, out PixelFormat format)
    {
        format = (PixelFormat)value;
        return value is 1 or 2 or 3 or 4 or 67 or 68 or 121 or 134;
    }

    /// <summary>The byte offsets of blue, green, red and alpha (-1: none) within a pixel.</summary>
    public static (int Blue, int Green, int Red, int Alpha) ChannelOffsets(PixelFormat format) => format switch
    {
        PixelFormat.B8G8R8A8 => (0, 1, 2, 3),
        PixelFormat.B8G8R8X8 => (0, 1, 2, -1),
        PixelFormat.A8R8G8B8 => (3, 2, 1, 0),
        PixelFormat.X8R8G8B8 => (3, 2, 1, -1),
        PixelFormat.R8G8B8A8 => (2, 1, 0, 3),
        PixelFormat.X8B8G8R8 => (1, 2, 3, -1),
        PixelFormat.A8B8G8R8 => (1, 2, 3, 0),
        PixelFormat.R8G8B8X8 => (2, 1, 0, -1),
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "Not a virtio-gpu format."),
    };

    /// <summary>Converts pixels to B8G8R8A8 (the cursor shape's format); formats without alpha become opaque.</summary>
    public static void ToB8G8R8A8(PixelFormat format, ReadOnlySpan<byte> source, Span<byte> destination)
    {
        (int blue, int green, int red, int alpha) = ChannelOffsets(format);
        for (int i = 0; i + 4 <= source.Length && i + 4 <= destination.Length; i += 4)
        {
            destination[i] = source[i + blue];
            destination[i + 1] = source[i + green];
            destination[i + 2] = source[i + red];
            destination[i + 3] = alpha < 0 ? (byte)0xFF : source[i + alpha];
        }
    }
}

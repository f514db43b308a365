using Vmm.Contracts.Display;

namespace Vmm.Plugins.Display.Framebuffer;

/// <summary>Converts rows of any contract pixel format to B8G8R8X8, the sinks' own framebuffer format.</summary>
internal static class PixelConverter
{
    /// <summary>The byte offsets of blue, green and red within a pixel of <paramref name="format"/>.</summary>
    public static (int Blue, int Green, int Red) ChannelOffsets(PixelFormat format) => format switch
    {
        PixelFormat.B8G8R8A8 or PixelFormat.B8G8R8X8 => (0, 1, 2),
        PixelFormat.A8R8G8B8 or PixelFormat.X8R8G8B8 => (3, 2, 1),
        PixelFormat.R8G8B8A8 or PixelFormat.R8G8B8X8 => (2, 1, 0),
        PixelFormat.X8B8G8R8 or PixelFormat.A8B8G8R8 => (1, 2, 3),
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "Unknown pixel format."),
    };

    /// <summary>Converts one row of <paramref name="pixels"/> pixels; the fourth byte of each output pixel is 0xFF.</summary>
    public static void ToB8G8R8X8(PixelFormat format, ReadOnlySpan<byte> source, Span<byte> destination, int pixels)
    {
        if (format is PixelFormat.B8G8R8X8 or PixelFormat.B8G8R8A8)
        {
            source[..(pixels * 4)].CopyTo(destination);
            return;
        }

        (int blue, int green, int red) = ChannelOffsets(format);
        for (int i = 0; i < pixels * 4; i += 4)
        {
            byte b = source[i + blue], g = source[i + green], r = source[i + red];
            destination[i] = b;
            destination[i + 1] = g;
            destination[i + 2] = r;
            destination[i + 3] = 0xFF;
        }
    }
}

using Vmm.Contracts.Display;

namespace Vmm.Plugins.Display.Framebuffer;

/// <summary>
/// A sink's own copy of the display in B8G8R8X8, kept current by copying only each frame's damaged rectangles.
/// Not thread-safe: the owning sink locks around it.
/// </summary>
internal sealed class SinkFramebuffer
{
    private byte[] _pixels = [];
    private byte[] _rowScratch = [];

    public int Width { get; private set; }

    public int Height { get; private set; }

    public int Stride => Width * 4;

    /// <summary>Whether a mode was set and a frame copied since.</summary>
    public bool HasFrame { get; private set; }

    public ReadOnlySpan<byte> Pixels => _pixels.AsSpan(0, Stride * Height);

    /// <summary>Takes a new size; the content is undefined until the next full frame.</summary>
    public void Resize(DisplayMode mode)
    {
        if (mode.Width != Width || mode.Height != Height)
        {
            Width = mode.Width;
            Height = mode.Height;
            int needed = checked(Width * Height * 4);
            if (_pixels.Length < needed)
            {
                _pixels = new byte[needed];
            }

            if (_rowScratch.Length < 2 * Stride)
            {
                _rowScratch = new byte[2 * Stride];
            }
        }

        HasFrame = false;
    }

    /// <summary>Two rows of scratch for reading a segmented frame's rows (<see cref="DisplayFrame.ReadRow"/>).</summary>
    public Span<byte> RowScratch(int which) => _rowScratch.AsSpan(which * Stride, Stride);

    /// <summary>
    /// Copies the frame's damaged rectangles (clipped) in, from one span or from segments alike; returns false when
    /// the frame's size is not ours.
    /// </summary>
    public bool CopyDamage(DisplayFrame frame)
    {
        DisplayMode mode = frame.Mode;
        if (mode.Width != Width || mode.Height != Height)
        {
            return false;
        }

        bool convert = mode.Format is not (PixelFormat.B8G8R8X8 or PixelFormat.B8G8R8A8);
        foreach (DamageRect damage in frame.Damage)
        {
            DamageRect rect = Clip(damage);
            if (rect.Width == 0 || rect.Height == 0)
            {
                continue;
            }

            Span<byte> destination = _pixels.AsSpan((rect.Y * Stride) + (rect.X * 4));
            frame.CopyRect(rect, destination, Stride);
            if (convert)
            {
                // In place: the converter reads a pixel's bytes before it writes them.
                for (int row = 0; row < rect.Height; row++)
                {
                    Span<byte> pixels = destination.Slice(row * Stride, rect.Width * 4);
                    PixelConverter.ToB8G8R8X8(mode.Format, pixels, pixels, rect.Width);
                }
            }
        }

        HasFrame = true;
        return true;
    }

    /// <summary>Clips a rectangle to the framebuffer; an outside one becomes empty.</summary>
    public DamageRect Clip(DamageRect rect)
    {
        int left = Math.Clamp(rect.X, 0, Width);
        int top = Math.Clamp(rect.Y, 0, Height);
        int right = Math.Clamp(rect.X + Math.Max(0, rect.Width), left, Width);
        int bottom = Math.Clamp(rect.Y + Math.Max(0, rect.Height), top, Height);
        return new DamageRect(left, top, right - left, bottom - top);
    }
}

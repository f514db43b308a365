namespace Vmm.VncBench;

/// <summary>
/// The frames both servers show: a synthetic 1920x1080 B8G8R8X8 desktop (solid background, windows with title bars
/// and two-colour "text" glyphs, one noisy photo-like area), in <see cref="Count"/> variants: the same windows, other
/// glyphs (so an encoder's zlib stream cannot reuse the previous frame's tile data), and colours that move in every
/// channel from one variant to the next, so every damaged pixel changes from frame to frame.
/// </summary>
internal sealed class Frames
{
    public const int Count = 4;
    public const int BytesPerPixel = 4;

    private readonly byte[][] _frames = new byte[Count][];

    public Frames(int width, int height)
    {
        Width = width;
        Height = height;
        for (int v = 0; v < Count; v++)
        {
            (byte[] classes, byte[] noise) = Layout(width, height, v);
            _frames[v] = Paint(classes, noise, v);
        }
    }

    public int Width { get; }

    public int Height { get; }

    public int Stride => Width * BytesPerPixel;

    /// <summary>Frame <paramref name="index"/> (cycles over the variants).</summary>
    public byte[] this[long index] => _frames[index % Count];

    // Class per pixel: 0 background, 1 window body, 2 title bar, 3 glyph ink, 255 noise; noise bytes alongside.
    private static (byte[] Classes, byte[] Noise) Layout(int width, int height, int variant)
    {
        // Windows from one seed, glyphs and noise from the variant's.
        var random = new Random(17);
        var glyphs = new Random(100 + variant);
        byte[] classes = new byte[width * height];
        byte[] noise = new byte[width * height * 3];
        glyphs.NextBytes(noise);
        for (int w = 0; w < 12; w++)
        {
            int ww = random.Next(300, 900), wh = random.Next(200, 600);
            int wx = random.Next(0, width - ww), wy = random.Next(0, height - wh);
            Fill(classes, width, wx, wy, ww, wh, 1);
            Fill(classes, width, wx, wy, ww, 24, 2);
            // Text: 8x16 cells, each a random 6x12 two-colour glyph, in lines with gaps.
            for (int ty = wy + 32; ty + 16 <= wy + wh; ty += 18)
            {
                int lineEnd = wx + 8 + random.Next(ww / 3, ww - 16);
                for (int tx = wx + 8; tx + 8 <= lineEnd; tx += 8)
                {
                    for (int gy = 2; gy < 14; gy++)
                    {
                        for (int gx = 1; gx < 7; gx++)
                        {
                            if (glyphs.Next(3) == 0)
                            {
                                classes[((ty + gy) * width) + tx + gx] = 3;
                            }
                        }
                    }
                }
            }
        }

        Fill(classes, width, width - 560, height - 360, 480, 270, 255);
        return (classes, noise);
    }

    private static void Fill(byte[] classes, int width, int x, int y, int w, int h, byte value)
    {
        for (int row = y; row < y + h; row++)
        {
            classes.AsSpan((row * width) + x, w).Fill(value);
        }
    }

    private byte[] Paint(byte[] classes, byte[] noise, int variant)
    {
        // Each class's colour moves by 0x40 in every channel per variant: never equal for neighbouring variants.
        int step = 0x40 * variant;
        ReadOnlySpan<(int B, int G, int R)> palette = [(0x30, 0x50, 0x20), (0xe8, 0xe8, 0xe0), (0x90, 0x40, 0x20), (0x10, 0x10, 0x10)];
        byte[] pixels = new byte[Width * Height * BytesPerPixel];
        for (int i = 0; i < classes.Length; i++)
        {
            int o = i * BytesPerPixel;
            if (classes[i] == 255)
            {
                pixels[o] = (byte)(noise[i * 3] ^ (step | 1));
                pixels[o + 1] = (byte)(noise[(i * 3) + 1] ^ (step | 1));
                pixels[o + 2] = (byte)(noise[(i * 3) + 2] ^ (step | 1));
            }
            else
            {
                (int b, int g, int r) = palette[classes[i]];
                pixels[o] = (byte)(b + step);
                pixels[o + 1] = (byte)(g + step);
                pixels[o + 2] = (byte)(r + step);
            }

            pixels[o + 3] = 0;
        }

        return pixels;
    }
}

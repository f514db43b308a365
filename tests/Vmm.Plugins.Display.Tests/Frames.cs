using Vmm.Contracts.Display;
using Vmm.Plugins.Display.Testing;

namespace Vmm.Plugins.Display.Tests;

/// <summary>Feeds sinks directly, as the router would.</summary>
internal static class Frames
{
    private static ulong s_sequence;

    public static void Publish(IDisplaySink sink, DisplayMode mode, byte[] pixels, params DamageRect[] damage)
        => sink.OnFrame(new DisplayFrame(mode, pixels, damage.Length == 0 ? [new DamageRect(0, 0, mode.Width, mode.Height)] : damage, ++s_sequence));

    /// <summary>
    /// Publishes <paramref name="pixels"/> as a segmented frame, cut every <paramref name="every"/> bytes (a prime, so
    /// cuts fall mid-row and mid-pixel).
    /// </summary>
    public static void PublishSegmented(IDisplaySink sink, DisplayMode mode, byte[] pixels, int every, params DamageRect[] damage)
    {
        Assert.True(sink is IDisplaySegmentedFrameSink { AcceptsSegmentedFrames: true });
        sink.OnFrame(new DisplayFrame(mode, SurfacePieces.Every(pixels, every), damage.Length == 0 ? [new DamageRect(0, 0, mode.Width, mode.Height)] : damage, ++s_sequence));
    }

    /// <summary>A B8G8R8X8 image whose every pixel differs from its neighbours.</summary>
    public static byte[] Noise(int width, int height, int seed = 1)
    {
        byte[] pixels = new byte[width * height * 4];
        new Random(seed).NextBytes(pixels);
        return pixels;
    }

    public static byte[] Rgb(byte[] bgrx, int count)
    {
        byte[] rgb = new byte[count * 3];
        for (int i = 0; i < count; i++)
        {
            rgb[(i * 3) + 0] = bgrx[(i * 4) + 2];
            rgb[(i * 3) + 1] = bgrx[(i * 4) + 1];
            rgb[(i * 3) + 2] = bgrx[i * 4];
        }

        return rgb;
    }
}

using System.Net;
using Vmm.Contracts.Display;
using Vmm.Plugins.Display.Vnc;
using Vmm.Plugins.Display.Testing;

namespace Vmm.Plugins.Display.Tests;

/// <summary>
/// A real VNC client (vncsnapshot, Debian package <c>vncsnapshot</c>) against the VNC sink; it writes JPEG, which
/// <c>djpeg</c> (Debian <c>libjpeg-turbo-progs</c>) turns into PPM for the pixel check. Skipped when either tool is missing.
/// </summary>
public sealed class VncRealClientTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("vmm-vnc-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Theory]
    [InlineData("raw")]
    [InlineData("tight zlib copyrect raw")]
    public void Vncsnapshot_captures_the_four_quadrants(string encodings)
    {
        if (RealVncClient.UnavailableReason is string missing)
        {
            Assert.Skip(missing);
        }

        using var sink = new VncSink("vnc0", new IPEndPoint(IPAddress.Loopback, 0));
        var mode = new DisplayMode(64, 48, 256, PixelFormat.B8G8R8X8);
        sink.OnModeChanged(mode);
        Frames.Publish(sink, mode, Quadrants(64, 48));

        VncCaptureResult capture = RealVncClient.Capture(sink.LocalEndPoint.Port, _folder, encodings, TimeSpan.FromSeconds(30));
        Assert.True(capture.Picture is not null, capture.Problem);

        (int width, int height, byte[] rgb) = capture.Picture;
        Assert.Equal((64, 48), (width, height));
        AssertNear([0xFF, 0, 0], rgb, width, 16, 12);
        AssertNear([0, 0xFF, 0], rgb, width, 48, 12);
        AssertNear([0, 0, 0xFF], rgb, width, 16, 36);
        AssertNear([0xFF, 0xFF, 0xFF], rgb, width, 48, 36);
    }

    private static byte[] Quadrants(int width, int height)
    {
        byte[] pixels = new byte[width * height * 4];
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                // B, G, R, X
                (byte r, byte g, byte b) = (x < width / 2, y < height / 2) switch
                {
                    (true, true) => ((byte)0xFF, (byte)0, (byte)0),
                    (false, true) => ((byte)0, (byte)0xFF, (byte)0),
                    (true, false) => ((byte)0, (byte)0, (byte)0xFF),
                    _ => ((byte)0xFF, (byte)0xFF, (byte)0xFF),
                };
                int i = ((y * width) + x) * 4;
                pixels[i] = b;
                pixels[i + 1] = g;
                pixels[i + 2] = r;
            }
        }

        return pixels;
    }

    private static void AssertNear(byte[] expected, byte[] rgb, int width, int x, int y)
    {
        for (int c = 0; c < 3; c++)
        {
            int actual = rgb[(((y * width) + x) * 3) + c];
            Assert.True(Math.Abs(actual - expected[c]) <= 24, $"pixel {x},{y} channel {c} is {actual}, expected about {expected[c]} (JPEG)");
        }
    }
}

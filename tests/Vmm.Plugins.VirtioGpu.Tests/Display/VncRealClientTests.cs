using System.Diagnostics;
using System.Net;
using System.Text;
using Vmm.Contracts.Display;
using Vmm.Plugins.Display.Vnc;

namespace Vmm.Plugins.VirtioGpu.Tests.Display;

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
        string? vncsnapshot = FindTool("vncsnapshot");
        string? djpeg = FindTool("djpeg");
        if (vncsnapshot is null || djpeg is null)
        {
            Assert.Skip("vncsnapshot or djpeg is not installed (apt-get install -y vncsnapshot libjpeg-turbo-progs).");
        }

        using var sink = new VncSink("vnc0", new IPEndPoint(IPAddress.Loopback, 0));
        var mode = new DisplayMode(64, 48, 256, PixelFormat.B8G8R8X8);
        sink.OnModeChanged(mode);
        Frames.Publish(sink, mode, Quadrants(64, 48));

        string jpeg = Path.Combine(_folder, "shot.jpg");
        (int code, string output) = Run(vncsnapshot, $"-quiet -allowblank -quality 100 -encodings \"{encodings}\" 127.0.0.1::{sink.LocalEndPoint.Port} {jpeg}");
        Assert.True(code == 0, $"vncsnapshot exited {code}: {output}");
        string ppm = Path.Combine(_folder, "shot.ppm");
        (code, output) = Run(djpeg, $"-pnm -outfile {ppm} {jpeg}");
        Assert.True(code == 0, $"djpeg exited {code}: {output}");

        (int width, int height, byte[] rgb) = ReadPpm(File.ReadAllBytes(ppm));
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

    private static (int Width, int Height, byte[] Rgb) ReadPpm(byte[] ppm)
    {
        // P6 <width> <height> <maxval> then binary RGB; djpeg writes no comments.
        int at = 0;
        string Token()
        {
            while (char.IsWhiteSpace((char)ppm[at]))
            {
                at++;
            }

            int start = at;
            while (!char.IsWhiteSpace((char)ppm[at]))
            {
                at++;
            }

            return Encoding.ASCII.GetString(ppm, start, at - start);
        }

        Assert.Equal("P6", Token());
        int width = int.Parse(Token(), System.Globalization.CultureInfo.InvariantCulture);
        int height = int.Parse(Token(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal("255", Token());
        at++;
        return (width, height, ppm.AsSpan(at, width * height * 3).ToArray());
    }

    private static string? FindTool(string name)
        => (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':')
            .Select(folder => Path.Combine(folder, name))
            .FirstOrDefault(File.Exists);

    private static (int Code, string Output) Run(string file, string arguments)
    {
        var info = new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        using Process process = Process.Start(info)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(30_000))
        {
            process.Kill(entireProcessTree: true);
            return (-1, "timed out");
        }

        return (process.ExitCode, stdout.Result + stderr.Result);
    }
}

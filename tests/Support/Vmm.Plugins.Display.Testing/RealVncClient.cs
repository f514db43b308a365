using System.Diagnostics;
using System.Globalization;
using System.Text;
using Vmm.Core.Hosting;

namespace Vmm.Plugins.Display.Testing;

/// <summary>
/// A real VNC client for tests: Debian's <c>vncsnapshot</c> captures a VNC server's screen as JPEG and
/// <c>djpeg</c> (libjpeg-turbo-progs) turns it into PPM, which is read back as RGB pixels.
/// </summary>
public static class RealVncClient
{
    /// <summary>Why a capture cannot run here (a tool is missing), or null when it can.</summary>
    public static string? UnavailableReason =>
        ExecutableSearch.FindOnPath("vncsnapshot") is null || ExecutableSearch.FindOnPath("djpeg") is null
            ? "vncsnapshot or djpeg is not installed (apt-get install -y vncsnapshot libjpeg-turbo-progs)."
            : null;

    /// <summary>
    /// Connects to 127.0.0.1:<paramref name="port"/> asking for <paramref name="encodings"/> and captures one picture
    /// into <paramref name="workFolder"/>. Never throws for a failed tool: the result says what went wrong.
    /// </summary>
    public static VncCaptureResult Capture(int port, string workFolder, string encodings = "raw", TimeSpan? timeout = null)
    {
        string vncsnapshot = ExecutableSearch.FindOnPath("vncsnapshot") ?? throw new InvalidOperationException(UnavailableReason);
        string djpeg = ExecutableSearch.FindOnPath("djpeg") ?? throw new InvalidOperationException(UnavailableReason);
        TimeSpan limit = timeout ?? TimeSpan.FromSeconds(60);
        string jpeg = Path.Combine(workFolder, "vnc-capture.jpg");
        string ppm = Path.Combine(workFolder, "vnc-capture.ppm");
        (int code, string output) = Run(vncsnapshot, $"-quiet -allowblank -quality 100 -encodings \"{encodings}\" 127.0.0.1::{port} {jpeg}", limit);
        if (code != 0)
        {
            return new VncCaptureResult(null, $"vncsnapshot exited {code}: {output}");
        }

        (code, output) = Run(djpeg, $"-pnm -outfile {ppm} {jpeg}", limit);
        return code != 0
            ? new VncCaptureResult(null, $"djpeg exited {code}: {output}")
            : new VncCaptureResult(ReadPpm(File.ReadAllBytes(ppm)), null);
    }

    // P6 <width> <height> <maxval> then binary RGB; djpeg writes no comments.
    private static VncPicture ReadPpm(byte[] ppm)
    {
        int at = 0;
        string Token()
        {
            while (at < ppm.Length && char.IsWhiteSpace((char)ppm[at]))
            {
                at++;
            }

            int start = at;
            while (at < ppm.Length && !char.IsWhiteSpace((char)ppm[at]))
            {
                at++;
            }

            return Encoding.ASCII.GetString(ppm, start, at - start);
        }

        if (Token() != "P6")
        {
            throw new InvalidDataException("djpeg did not write a binary PPM (P6).");
        }

        int width = int.Parse(Token(), CultureInfo.InvariantCulture);
        int height = int.Parse(Token(), CultureInfo.InvariantCulture);
        if (Token() != "255")
        {
            throw new InvalidDataException("djpeg wrote a PPM whose maximum value is not 255.");
        }

        at++;
        return new VncPicture(width, height, ppm.AsSpan(at, width * height * 3).ToArray());
    }

    private static (int Code, string Output) Run(string file, string arguments, TimeSpan timeout)
    {
        var info = new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        using Process process = Process.Start(info)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            return (-1, "timed out");
        }

        return (process.ExitCode, stdout.Result + stderr.Result);
    }
}

/// <summary>What a capture gave: the picture, or why there is none.</summary>
/// <param name="Picture">The captured picture, or null.</param>
/// <param name="Problem">What failed, or null.</param>
public sealed record VncCaptureResult(VncPicture? Picture, string? Problem);

/// <summary>A captured picture: <c>Width * Height</c> RGB pixels, three bytes each, row by row.</summary>
public sealed record VncPicture(int Width, int Height, byte[] Rgb)
{
    /// <summary>The red, green and blue bytes of the pixel at (<paramref name="x"/>, <paramref name="y"/>).</summary>
    public ReadOnlySpan<byte> Pixel(int x, int y) => Rgb.AsSpan(((y * Width) + x) * 3, 3);
}

using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Vmm.Contracts.Devices;
using Vmm.Contracts.Display;
using Vmm.Plugins.Ivshmem.Display;
using Vmm.Testing.Devices;
using Xunit;

namespace Vmm.Plugins.Ivshmem.Tests.Display;

/// <summary>
/// The judge of the KVMFR export is the real <c>looking-glass-client</c> B7: it is pointed at the file a
/// <c>kvmfr-export</c> sink writes, under Xvfb, and a screenshot of its window must show each picture the sink was
/// sent, in the right byte order. Looking Glass has no Debian package and its source may not be vendored here, so the
/// test runs where <c>LOOKING_GLASS_CLIENT</c> names a built client (plugins/Vmm.Plugins.Ivshmem/README.md says how)
/// and skips with that reason elsewhere.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class LookingGlassClientTests : IDisposable
{
    private const int Width = 640;
    private const int Height = 480;
    private const int ScreenWidth = 1024;
    private const int ScreenHeight = 768;

    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void TheRealClientShowsWhatTheExportPublishes()
    {
        string client = Environment.GetEnvironmentVariable("LOOKING_GLASS_CLIENT") ?? "";
        if (!File.Exists(client))
        {
            Assert.Skip("set LOOKING_GLASS_CLIENT to a looking-glass-client B7 binary to run this (no Debian package exists; see plugins/Vmm.Plugins.Ivshmem/README.md)");
        }

        if (!File.Exists("/usr/bin/Xvfb") || !File.Exists("/usr/bin/import") || !File.Exists("/usr/bin/setpriv"))
        {
            Assert.Skip("needs Xvfb, imagemagick's import and setpriv (apt-get install xvfb imagemagick util-linux)");
        }

        string file = _folder.File("kvmfr");
        var options = new KvmfrExportOptions { Path = file, Size = 32L << 20, SubscriberTimeoutMs = 10_000 };
        using var export = (IDisplaySink)((IDeviceFactory)new KvmfrExportSinkFactory()).Create(
            new DeviceCreateContext("lg-export", NullLoggerFactory.Instance, null, EmptyServiceProvider.Instance, _folder.Path), options);
        // The client runs as an unprivileged user (it refuses root) and writes its subscription into the file.
        File.SetUnixFileMode(_folder.Path, (UnixFileMode)0x1FF);
        File.SetUnixFileMode(file, (UnixFileMode)0x1B6);

        var mode = new DisplayMode(Width, Height, Width * 4, PixelFormat.B8G8R8X8);
        export.OnModeChanged(mode);
        byte[] picture = new byte[Width * Height * 4];
        using var feeding = new CancellationTokenSource();
        (byte R, byte G, byte B) colour = (0x20, 0xA0, 0x60);
        var feeder = new Thread(() =>
        {
            ulong sequence = 0;
            while (!feeding.IsCancellationRequested)
            {
                Fill(picture, colour);
                export.OnFrame(new DisplayFrame(mode, picture, [new DamageRect(0, 0, Width, Height)], ++sequence));
                feeding.Token.WaitHandle.WaitOne(50);
            }
        }) { IsBackground = true };

        int display = 90 + Random.Shared.Next(9);
        using Process xvfb = Start("/usr/bin/Xvfb", $":{display} -screen 0 {ScreenWidth}x{ScreenHeight}x24 -nolisten tcp", null);
        Thread.Sleep(1000);
        var log = new StringBuilder();
        using Process lg = Start(
            "/usr/bin/setpriv",
            $"--reuid=65534 --regid=65534 --clear-groups env HOME={_folder.Path} DISPLAY=:{display} {client} -f {file} -s -F app:renderer=egl",
            log);
        try
        {
            feeder.Start();
            WaitForLog(log, $"FRAME_TYPE_BGRA {Width}x{Height}", TimeSpan.FromSeconds(60));
            AssertScreenShows(display, colour, log);

            colour = (0xD0, 0x30, 0x90);
            AssertScreenShows(display, colour, log);
        }
        finally
        {
            feeding.Cancel();
            Stop(lg);
            Stop(xvfb);
        }
    }

    private static void Fill(byte[] picture, (byte R, byte G, byte B) colour)
    {
        for (int i = 0; i < picture.Length; i += 4)
        {
            (picture[i], picture[i + 1], picture[i + 2], picture[i + 3]) = (colour.B, colour.G, colour.R, 0);
        }
    }

    private static void AssertScreenShows(int display, (byte R, byte G, byte B) colour, StringBuilder log)
    {
        double share = 0;
        DateTime deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            share = ShareOfScreen(display, colour);
            if (share > 0.5)
            {
                return;
            }

            Thread.Sleep(500);
        }

        Assert.Fail($"the client's screen is {share:P0} #{colour.R:x2}{colour.G:x2}{colour.B:x2}; its log:\n{Snapshot(log)}");
    }

    private static double ShareOfScreen(int display, (byte R, byte G, byte B) colour)
    {
        using var import = new Process
        {
            StartInfo = new ProcessStartInfo("/usr/bin/import", $"-display :{display} -window root -depth 8 rgb:-")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            },
        };
        import.Start();
        using var rgb = new MemoryStream();
        import.StandardOutput.BaseStream.CopyTo(rgb);
        import.WaitForExit();
        byte[] pixels = rgb.ToArray();
        int matching = 0;
        for (int i = 0; i + 2 < pixels.Length; i += 3)
        {
            if (Math.Abs(pixels[i] - colour.R) < 8 && Math.Abs(pixels[i + 1] - colour.G) < 8 && Math.Abs(pixels[i + 2] - colour.B) < 8)
            {
                matching++;
            }
        }

        return pixels.Length == 0 ? 0 : matching / (pixels.Length / 3.0);
    }

    private static Process Start(string program, string arguments, StringBuilder? log)
    {
        var process = new Process
        {
            StartInfo = new ProcessStartInfo(program, arguments) { RedirectStandardOutput = true, RedirectStandardError = true },
        };
        process.OutputDataReceived += (_, e) => Append(log, e.Data);
        process.ErrorDataReceived += (_, e) => Append(log, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static void Append(StringBuilder? log, string? line)
    {
        if (log is null || line is null)
        {
            return;
        }

        lock (log)
        {
            log.AppendLine(line);
        }
    }

    private static string Snapshot(StringBuilder log)
    {
        lock (log)
        {
            return log.ToString();
        }
    }

    private static void WaitForLog(StringBuilder log, string text, TimeSpan timeout)
    {
        DateTime deadline = DateTime.UtcNow + timeout;
        while (!Snapshot(log).Contains(text, StringComparison.Ordinal))
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"looking-glass-client did not log '{text}' within {timeout.TotalSeconds} s:\n{Snapshot(log)}");
            }

            Thread.Sleep(100);
        }
    }

    private static void Stop(Process process)
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(5000);
        }
    }
}

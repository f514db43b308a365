using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Vmm.Contracts.Devices;
using Vmm.Contracts.Display;
using Vmm.Plugins.Ivshmem.Device;
using Vmm.Testing;
using Vmm.Testing.Devices;

namespace Vmm.Plugins.Ivshmem.Tests.Display;

/// <summary>
/// The guest capture agent (tools/guest-agents/kvmfr-capture, C) and the plugin's capture source (C#) are two
/// implementations of Looking Glass B7's protocol written from the brief: each is checked against the other here,
/// on the host, through a plain file (the QEMU guest test does the same through real IVSHMEM). The agent's own
/// shell test runs here too, so CI covers it.
/// </summary>
public sealed class GuestAgentTests : IDisposable
{
    private const int Width = 640;
    private const int Height = 480;

    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void TheAgentsOwnHostTestsPass()
    {
        SkipUnlessAgentBuilds();
        (int code, string output) = Run("/bin/bash", Path.Combine(AgentFolder, "test", "run.sh"), TimeSpan.FromMinutes(3));
        Assert.True(code == 0, $"tools/guest-agents/kvmfr-capture/test/run.sh exited {code}:\n{output}");
    }

    [Fact]
    public void TheCaptureSourceShowsWhatTheAgentWrites()
    {
        SkipUnlessAgentBuilds();
        string agent = BuildAgent();
        string shm = _folder.File("ivshmem");
        string raw = _folder.File("screen.raw");
        byte[] picture = new byte[Width * Height * 4];
        for (int i = 0; i < picture.Length; i += 4)
        {
            int pixel = i / 4;
            (picture[i], picture[i + 1], picture[i + 2], picture[i + 3]) = ((byte)(pixel % Width), (byte)(pixel / Width), (byte)(pixel * 7), 0xFF);
        }

        File.WriteAllBytes(raw, picture);
        using var device = (IvshmemDevice)((IDeviceFactory)new IvshmemDeviceFactory()).Create(
            new DeviceCreateContext("lg0", NullLoggerFactory.Instance, null, EmptyServiceProvider.Instance, _folder.Path),
            new IvshmemOptions { Path = shm, Size = 8L << 20 });
        var sink = new RecordingSink();
        device.Connect(sink);
        using Process producer = Process.Start(new ProcessStartInfo(agent, $"--shm {shm} --source file:{raw}:{Width}x{Height} --fps 60")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        try
        {
            (DisplayMode mode, _, _) = sink.WaitForFrame((_, pixels) => pixels.AsSpan().SequenceEqual(picture), TimeSpan.FromSeconds(20));
            Assert.Equal(new DisplayMode(Width, Height, Width * 4, PixelFormat.B8G8R8A8), mode);

            // A small change arrives as a small damaged rect over the same picture.
            picture.AsSpan((100 * Width * 4) + (200 * 4), 32 * 4).Fill(0xEE);
            File.WriteAllBytes(raw, picture);
            (_, _, DamageRect[] damage) = sink.WaitForFrame((_, pixels) => pixels.AsSpan().SequenceEqual(picture), TimeSpan.FromSeconds(20));
            Assert.NotEmpty(damage);
            Assert.True(damage.Sum(d => (long)d.Width * d.Height) < Width * Height / 4, $"a 32-pixel change came with damage {string.Join(", ", damage)}");
        }
        finally
        {
            producer.Kill();
            producer.WaitForExit(5000);
        }
    }

    private static string AgentFolder => Path.Combine(SourceTree.Root, "tools", "guest-agents", "kvmfr-capture");

    private static void SkipUnlessAgentBuilds()
    {
        if (!File.Exists("/usr/bin/gcc") || !File.Exists("/usr/bin/make") || !File.Exists("/usr/include/libdrm/drm_mode.h"))
        {
            Assert.Skip("building the guest capture agent needs gcc, make and the DRM uapi headers (apt-get install gcc make libdrm-dev)");
        }
    }

    private string BuildAgent()
    {
        string output = _folder.File("build");
        (int code, string log) = Run("/usr/bin/make", $"-s -C {AgentFolder} OUT={output}", TimeSpan.FromMinutes(2));
        Assert.True(code == 0, $"make kvmfr-capture failed:\n{log}");
        return Path.Combine(output, "kvmfr-capture");
    }

    private static (int Code, string Output) Run(string program, string arguments, TimeSpan timeout)
    {
        using Process process = Process.Start(new ProcessStartInfo(program, arguments) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> errors = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            return (-1, $"timed out after {timeout.TotalSeconds} s\n{output.Result}{errors.Result}");
        }

        return (process.ExitCode, output.Result + errors.Result);
    }
}

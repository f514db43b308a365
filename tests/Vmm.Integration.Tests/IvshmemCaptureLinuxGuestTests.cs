using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Vmm.Integration.Tests.Cli;
using Vmm.Plugins.Display.Tests;
using Vmm.Testing;
using Vmm.Plugins.Display.Testing;

namespace Vmm.Integration.Tests;

/// <summary>
/// IVSHMEM capture with real peers: a Debian guest under QEMU 10 (TCG) with our virtio-gpu over vhost-user and QEMU's
/// own <c>ivshmem-plain</c> on a /dev/shm file. The guest's <c>kvmfr-capture</c> agent (started by the image's init
/// because the device is there) copies the console fbcon draws on our virtio-gpu into the shared memory as Looking
/// Glass B7 KVMFR frames; the <c>ivshmem</c> device reads them as the active display source, a VNC sink shows them to
/// a real VNC client (vncsnapshot), and <c>vmm ctl screenshot</c> writes them. A second consumer in another process
/// (our C LGMP reader, as OBS's plugin would be) reads the same memory meanwhile without disturbing the first.
/// </summary>
public sealed class IvshmemCaptureLinuxGuestTests : IDisposable
{
    private static readonly TimeSpan s_bootLimit = TimeSpan.FromSeconds(150);
    private readonly string _work = Directory.CreateTempSubdirectory("vmm-ivshmem-").FullName;
    private readonly string _shm = $"/dev/shm/vmm-ivshmem-it-{Guid.NewGuid():N}";

    public void Dispose()
    {
        Directory.Delete(_work, recursive: true);
        File.Delete(_shm);
    }

    [Fact]
    public async Task The_guest_console_reaches_a_vnc_client_through_ivshmem_capture()
    {
        (_, string kernel, string initrd) = TestVm.QemuAndGuestImageOrSkip();
        if (RealVncClient.UnavailableReason is string noVnc)
        {
            Assert.Skip(noVnc);
        }

        CancellationToken cancel = TestContext.Current.CancellationToken;
        int port = VmmCtl.FreePort();
        string socket = Path.Combine(_work, "ctl.sock");
        string script = "for i in 1 2 3 4 5 6 7 8; do echo \"IVSHMEM CAPTURE LINE $i: THE QUICK BROWN FOX\" > /dev/tty1; done; sleep 2; echo DRAWN; i=0; while true; do i=$((i+1)); echo \"TICK $i\" > /dev/tty1; sleep 3; done";
        string command = Convert.ToBase64String(Encoding.UTF8.GetBytes(script));
        string config = Path.Combine(_work, "lg.json");
        await File.WriteAllTextAsync(config, $$"""
            {
              "machine": { "memory": "256M", "kernel": "{{kernel}}", "initrd": "{{initrd}}", "cmdline": "console=tty0 console=ttyS0 loglevel=4 vmm.kvmfr.fps=10 vmm.cmd={{command}}" },
              "platform": "qemu",
              "devices": [
                { "id": "gpu0", "plugin": "virtio-gpu", "type": "virtio-gpu", "options": { "scanouts": [ { "width": 800, "height": 600 } ] } },
                { "id": "lg0", "plugin": "ivshmem", "type": "ivshmem", "options": { "path": "{{_shm}}", "size": 8388608 } },
                { "id": "vnc0", "plugin": "display", "type": "display-vnc", "options": { "port": {{port}} } }
              ],
              "display": { "source": "lg0", "sinks": [ "vnc0" ] },
              "control": { "socket": "{{socket}}" }
            }
            """, cancel);
        using var run = new InProcessVmmRun(config, "DRAWN", cancel);
        try
        {
            await run.WaitForMarkerAsync(s_bootLimit, cancel);

            // The VNC client sees the console text that fbcon drew on virtio-gpu, carried by the guest agent through IVSHMEM.
            VncPicture first = await WaitForTextAsync(port, minimumLit: 1500, cancel);
            Assert.Equal((800, 600), (first.Width, first.Height));
            if (await ReadTextAsync(first, cancel) is string text)
            {
                // fbcon's VGA font is small for OCR even scaled up: the line's first word is what it reads reliably.
                Assert.Contains("CAPTURE", text, StringComparison.Ordinal);
            }

            // A second consumer (another process, as OBS would be) reads the same memory at the same time.
            if (BuildReader() is string reader)
            {
                (int code, string output) = await RunAsync(reader, $"--shm {_shm} --frames 1 --timeout 30 --save {Path.Combine(_work, "second.ppm")}", cancel);
                Assert.True(code == 0, $"the second consumer failed ({code}): {output}");
                Assert.True(new FileInfo(Path.Combine(_work, "second.ppm")).Length > 800 * 600 * 3, "the second consumer saved no frame");
            }
            else
            {
                TestContext.Current.TestOutputHelper?.WriteLine("second consumer skipped: no gcc to build tools/guest-agents/kvmfr-capture/test/lgmp-reader.c");
            }

            // The first consumer is undisturbed: the guest's next lines still reach the VNC client, and ctl screenshot works on it.
            await WaitForChangeAsync(port, first, cancel);
            (int ExitCode, string Out) screenshot = await VmmCtl.RunAsync("--socket", socket, "screenshot", Path.Combine(_work, "shot.png"));
            Assert.True(screenshot.ExitCode == 0, screenshot.Out);
            (int width, int height, _) = PngTestDecoder.Decode(await File.ReadAllBytesAsync(Path.Combine(_work, "shot.png"), cancel));
            Assert.Equal((800, 600), (width, height));
            (int listCode, string list) = await VmmCtl.RunAsync("--socket", socket, "display");
            Assert.True(listCode == 0, list);
            Assert.Contains("lg0", list, StringComparison.Ordinal);
        }
        finally
        {
            await VmmCtl.RunAsync("--socket", socket, "stop");
            await run.Exit.WaitAsync(TimeSpan.FromSeconds(30), CancellationToken.None).ContinueWith(_ => { }, CancellationToken.None);
            run.WriteOutput();
        }
    }

    private async Task<VncPicture> WaitForTextAsync(int port, int minimumLit, CancellationToken cancel)
    {
        DateTime deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        string last = "no capture yet";
        while (DateTime.UtcNow < deadline)
        {
            VncCaptureResult capture = RealVncClient.Capture(port, _work);
            if (capture.Picture is VncPicture picture)
            {
                int lit = 0;
                for (int i = 0; i + 2 < picture.Rgb.Length; i += 3)
                {
                    if (picture.Rgb[i] + picture.Rgb[i + 1] + picture.Rgb[i + 2] > 3 * 128)
                    {
                        lit++;
                    }
                }

                if (lit >= minimumLit && lit < picture.Width * picture.Height / 2)
                {
                    return picture;
                }

                last = $"{picture.Width}x{picture.Height} with {lit} lit pixels";
            }
            else
            {
                last = capture.Problem ?? "no picture";
            }

            await Task.Delay(1000, cancel);
        }

        Assert.Fail($"the VNC client never saw console text through IVSHMEM capture; last: {last}");
        return default!;
    }

    /// <summary>The text tesseract reads in <paramref name="picture"/> (scaled up: fbcon's 8x16 font is small), or null without tesseract.</summary>
    private async Task<string?> ReadTextAsync(VncPicture picture, CancellationToken cancel)
    {
        if (!File.Exists("/usr/bin/tesseract") || !File.Exists("/usr/bin/convert"))
        {
            TestContext.Current.TestOutputHelper?.WriteLine("console text not OCR-checked: tesseract-ocr or imagemagick is not installed");
            return null;
        }

        string ppm = Path.Combine(_work, "vnc.ppm");
        string png = Path.Combine(_work, "vnc-ocr.png");
        await using (FileStream file = File.Create(ppm))
        {
            await file.WriteAsync(Encoding.ASCII.GetBytes($"P6\n{picture.Width} {picture.Height}\n255\n"), cancel);
            await file.WriteAsync(picture.Rgb, cancel);
        }

        (int scaled, string scaleOutput) = await RunAsync("/usr/bin/convert", $"{ppm} -scale 300% {png}", cancel);
        Assert.True(scaled == 0, $"convert failed: {scaleOutput}");
        (int code, string text) = await RunAsync("/usr/bin/tesseract", $"{png} stdout", cancel);
        Assert.True(code == 0, $"tesseract failed: {text}");
        TestContext.Current.TestOutputHelper?.WriteLine($"--- OCR of the VNC picture\n{text}");
        return text;
    }

    private async Task WaitForChangeAsync(int port, VncPicture before, CancellationToken cancel)
    {
        DateTime deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (RealVncClient.Capture(port, _work).Picture is VncPicture now && !now.Rgb.AsSpan().SequenceEqual(before.Rgb))
            {
                return;
            }

            await Task.Delay(1000, cancel);
        }

        Assert.Fail("the VNC picture stopped changing after the second consumer read the memory");
    }

    private string? BuildReader()
    {
        string source = Path.Combine(SourceTree.Root, "tools", "guest-agents", "kvmfr-capture", "test", "lgmp-reader.c");
        string binary = Path.Combine(_work, "lgmp-reader");
        if (!File.Exists("/usr/bin/gcc") || !File.Exists(source))
        {
            return null;
        }

        using Process gcc = Process.Start("/usr/bin/gcc", $"-O2 -o {binary} {source}")!;
        gcc.WaitForExit();
        return gcc.ExitCode == 0 ? binary : null;
    }

    private static async Task<(int Code, string Output)> RunAsync(string program, string arguments, CancellationToken cancel)
    {
        using var process = new Process { StartInfo = new ProcessStartInfo(program, arguments) { RedirectStandardOutput = true, RedirectStandardError = true } };
        process.Start();
        Task<string> output = process.StandardOutput.ReadToEndAsync(cancel);
        Task<string> errors = process.StandardError.ReadToEndAsync(cancel);
        await process.WaitForExitAsync(cancel);
        return (process.ExitCode, await output + await errors);
    }
}

using System.Text;
using System.Text.Json;
using Vmm.Plugins.Display.Tests;
using Vmm.Qemu;
using Vmm.Testing;

namespace Vmm.Integration.Tests.Cli;

/// <summary>
/// <c>vmm ctl screenshot</c> end to end: <c>vmm run</c> loads the virtio-gpu and display plugins from their build
/// folders (the display plugin's manifest asks for contract 1.1), Debian's fbcon draws text on our virtio-gpu, and
/// a second <c>vmm ctl</c> writes what the <c>display-png</c> sink holds to a PNG file.
/// </summary>
public sealed class VmmScreenshotTests : IDisposable
{
    private static readonly TimeSpan s_bootLimit = TimeSpan.FromSeconds(120);
    private readonly string _work = Directory.CreateTempSubdirectory("vmm-shot-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [Fact]
    public async Task Ctl_screenshot_writes_the_guest_console_as_a_png_and_names_a_missing_sink()
    {
        (_, string kernel, string initrd) = TestVm.QemuAndGuestImageOrSkip();

        string socket = Path.Combine(_work, "ctl.sock");
        string script = "for i in 1 2 3 4 5 6 7 8; do echo \"SCREENSHOT ME, LINE $i: THE QUICK BROWN FOX\" > /dev/tty1; done; sleep 1; echo DRAWN; sleep 600";
        string command = Convert.ToBase64String(Encoding.UTF8.GetBytes(script));
        string config = Path.Combine(_work, "gpu.json");
        await File.WriteAllTextAsync(config, $$"""
            {
              "machine": { "memory": "256M", "kernel": "{{kernel}}", "initrd": "{{initrd}}", "cmdline": "console=tty0 console=ttyS0 loglevel=4 vmm.cmd={{command}}" },
              "platform": "qemu",
              "plugins": { "paths": [ {{JsonSerializer.Serialize(SourceTree.PluginOutput("Vmm.Plugins.VirtioGpu"))}}, {{JsonSerializer.Serialize(SourceTree.PluginOutput("Vmm.Plugins.Display"))}} ] },
              "devices": [
                { "id": "gpu0", "plugin": "virtio-gpu", "type": "virtio-gpu" },
                { "id": "png0", "plugin": "display", "type": "display-png" }
              ],
              "control": { "socket": "{{socket}}" }
            }
            """, TestContext.Current.CancellationToken);
        using var run = new InProcessVmmRun(config, "DRAWN", TestContext.Current.CancellationToken);
        try
        {
            await run.WaitForMarkerAsync(s_bootLimit, TestContext.Current.CancellationToken);
            string shot = Path.Combine(_work, "shot.png");

            // fbcon flushes on its own schedule: the first request may find no frame yet.
            (int ExitCode, string Out) reply = (-1, "");
            for (int attempt = 0; attempt < 40; attempt++)
            {
                reply = await VmmCtl.RunAsync("--socket", socket, "screenshot", shot);
                if (reply.ExitCode == 0)
                {
                    break;
                }

                Assert.Contains("\"no-frame\"", reply.Out, StringComparison.Ordinal);
                await Task.Delay(250, TestContext.Current.CancellationToken);
            }

            Assert.Equal(0, reply.ExitCode);
            JsonElement result = JsonDocument.Parse(reply.Out).RootElement.GetProperty("result");
            Assert.Equal("png0", result.GetProperty("sink").GetString());
            Assert.Equal(shot, result.GetProperty("path").GetString());
            (int width, int height, byte[] rgb) = PngTestDecoder.Decode(await File.ReadAllBytesAsync(shot, TestContext.Current.CancellationToken));
            Assert.Equal((1280, 800), (width, height));
            Assert.Equal((1280, 800), (result.GetProperty("width").GetInt32(), result.GetProperty("height").GetInt32()));
            int lit = 0;
            for (int i = 0; i < width * height; i++)
            {
                if (rgb[i * 3] + rgb[(i * 3) + 1] + rgb[(i * 3) + 2] > 3 * 128)
                {
                    lit++;
                }
            }

            // Eight 45-character lines of 8x16 text light thousands of pixels; a blank screen none.
            Assert.InRange(lit, 1500, width * height / 2);

            (int ExitCode, string Out) missing = await VmmCtl.RunAsync("--socket", socket, "screenshot", shot, "--sink", "vnc9");
            Assert.Equal(6, missing.ExitCode);
            Assert.Equal("no-such-sink", JsonDocument.Parse(missing.Out).RootElement.GetProperty("error").GetProperty("code").GetString());

            Assert.Equal(0, (await VmmCtl.RunAsync("--socket", socket, "stop")).ExitCode);
            Assert.Equal(0, await run.Exit.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken));
        }
        finally
        {
            run.WriteOutput();
        }
    }
}

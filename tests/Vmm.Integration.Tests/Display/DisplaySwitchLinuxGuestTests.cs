using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Vmm.Cli;
using Vmm.Integration.Tests.Cli;
using Vmm.Plugins.Display.Tests;

namespace Vmm.Integration.Tests.Display;

/// <summary>
/// Switching display transports while a VM runs, through the control API: <c>vmm run</c> boots Debian under QEMU
/// (qemu platform; our virtio-gpu over vhost-user) with a VNC sink and a second source (the display plugin's test
/// pattern). One VNC connection, never reopened, sees the guest's console, then the pattern after
/// <c>vmm ctl display switch-source pattern0</c>, then the console again. On the way: <c>display</c> lists both
/// sources, a second VNC sink is added on a new port and removed, and <c>screenshot</c> works with no PNG sink.
/// </summary>
public sealed class DisplaySwitchLinuxGuestTests : IDisposable
{
    private static readonly TimeSpan s_bootLimit = TimeSpan.FromSeconds(120);
    private readonly string _work = Directory.CreateTempSubdirectory("vmm-switch-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [Fact]
    public async Task A_connected_vnc_client_sees_the_source_switch_and_back_without_reconnecting()
    {
        (_, string kernel, string initrd) = TestVm.QemuAndGuestImageOrSkip();
        CancellationToken cancellationToken = TestContext.Current.CancellationToken;
        string socket = Path.Combine(_work, "ctl.sock");
        int vncPort = VmmCtl.FreePort();
        int secondVncPort = VmmCtl.FreePort();
        string script = "for i in 1 2 3 4 5 6 7 8 9 10; do echo \"SWITCH ME, LINE $i: THE QUICK BROWN FOX JUMPS\" > /dev/tty1; done; sleep 1; echo DRAWN; sleep 600";
        string command = Convert.ToBase64String(Encoding.UTF8.GetBytes(script));
        string config = Path.Combine(_work, "desktop.json");
        await File.WriteAllTextAsync(config, $$"""
            {
              "machine": { "memory": "256M", "kernel": "{{kernel}}", "initrd": "{{initrd}}", "cmdline": "console=tty0 console=ttyS0 loglevel=4 vmm.cmd={{command}}" },
              "platform": "qemu",
              "devices": [
                { "id": "gpu0", "plugin": "virtio-gpu", "type": "virtio-gpu" },
                { "id": "vnc0", "plugin": "display", "type": "display-vnc", "options": { "port": {{vncPort}} } },
                { "id": "pattern0", "plugin": "display", "type": "display-test-pattern", "options": { "pattern": "solid", "color": "#00ff00" } }
              ],
              "display": { "source": "gpu0", "sinks": [ "vnc0" ] },
              "control": { "socket": "{{socket}}" }
            }
            """, cancellationToken);
        using var run = new InProcessVmmRun(config, "DRAWN", cancellationToken);
        try
        {
            await run.WaitForMarkerAsync(s_bootLimit, cancellationToken);
            using var client = new RfbTestClient(new IPEndPoint(IPAddress.Loopback, vncPort));
            client.Handshake();
            client.SetEncodings(0, -223);

            // The guest's console: text on black, no green.
            Assert.True(await WaitForPictureAsync(client, p => Count(p, IsText) > 1500, cancellationToken), "The console text never reached the VNC client.");
            Assert.Equal(0, Count(client, IsGreen));

            JsonElement listed = await CtlOkAsync("--socket", socket, "display");
            Assert.Equal("gpu0", listed.GetProperty("activeSource").GetString());
            Assert.Equal(["gpu0", "pattern0"], listed.GetProperty("sources").EnumerateArray().Select(s => s.GetProperty("id").GetString()));

            await CtlOkAsync("--socket", socket, "display", "switch-source", "pattern0");
            Assert.True(await WaitForPictureAsync(client, p => Count(p, IsGreen) == p.Width * p.Height, cancellationToken), "The VNC client never saw the test pattern.");

            // A second VNC sink made while the VM runs shows the active source too; then it goes.
            await CtlOkAsync("--socket", socket, "display", "add-sink", "--type", "display-vnc", "--id", "vnc1", "--options", $$"""{"port":{{secondVncPort}}}""");
            using (var second = new RfbTestClient(new IPEndPoint(IPAddress.Loopback, secondVncPort)))
            {
                second.Handshake();
                second.SetEncodings(0, -223);
                Assert.True(await WaitForPictureAsync(second, p => Count(p, IsGreen) == p.Width * p.Height, cancellationToken), "The added VNC sink did not show the pattern.");
            }

            await CtlOkAsync("--socket", socket, "display", "remove-sink", "vnc1");

            await CtlOkAsync("--socket", socket, "display", "switch-source", "gpu0");
            Assert.True(await WaitForPictureAsync(client, p => Count(p, IsText) > 1500 && Count(p, IsGreen) == 0, cancellationToken), "The VNC client never saw the console again.");

            // No PNG sink in this VM: the screenshot comes from the active source's next full frame.
            string shot = Path.Combine(_work, "shot.png");
            JsonElement screenshot = await CtlOkAsync("--socket", socket, "screenshot", shot);
            Assert.Equal("gpu0", screenshot.GetProperty("source").GetString());
            (int width, int height, byte[] _) = PngTestDecoder.Decode(await File.ReadAllBytesAsync(shot, cancellationToken));
            Assert.Equal((1280, 800), (width, height));

            await CtlOkAsync("--socket", socket, "stop");
            Assert.Equal(0, await run.Exit.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken));
        }
        finally
        {
            run.WriteOutput();
        }
    }

    private static bool IsGreen(byte b, byte g, byte r) => g == 0xFF && r == 0 && b == 0;

    private static bool IsText(byte b, byte g, byte r) => b + g + r > 3 * 128;

    private static int Count(RfbTestClient client, Func<byte, byte, byte, bool> test)
    {
        int count = 0;
        byte[] pixels = client.Framebuffer;
        for (int i = 0; i + 3 < pixels.Length; i += 4)
        {
            if (test(pixels[i], pixels[i + 1], pixels[i + 2]))
            {
                count++;
            }
        }

        return count;
    }

    /// <summary>Reads updates on the one connection until the picture passes <paramref name="done"/> (or 60 s pass).</summary>
    private static async Task<bool> WaitForPictureAsync(RfbTestClient client, Func<RfbTestClient, bool> done, CancellationToken cancellationToken)
    {
        DateTime deadline = DateTime.UtcNow.AddSeconds(60);
        bool incremental = false;
        while (DateTime.UtcNow < deadline)
        {
            client.RequestUpdate(incremental);
            await Task.Run(client.ReadUpdate, cancellationToken);
            if (done(client))
            {
                return true;
            }

            incremental = true;
        }

        return false;
    }

    private static async Task<JsonElement> CtlOkAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        int code = await Program.RunAsync(["ctl", .. args], output, error, TestContext.Current.CancellationToken);
        Assert.True(code == 0, $"vmm ctl {string.Join(' ', args)}: exit {code}\n{output}{error}");
        return JsonDocument.Parse(output.ToString()).RootElement.GetProperty("result").Clone();
    }
}

using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Vmm.Core.Config;
using Vmm.Core.Control;
using Vmm.Core.Hosting;
using Vmm.Plugins.Display.Png;
using Vmm.Plugins.Display.Vnc;
using Vmm.Plugins.VirtioGpu;
using Vmm.Plugins.Display.Tests;
using Vmm.Plugins.VirtioInput;
using Vmm.Qemu;
using Vmm.Plugins.Display.Testing;

namespace Vmm.Integration.Tests;

/// <summary>
/// The display pipeline with real peers on both ends, in one boot of Debian's 6.1 kernel under QEMU 10 (TCG):
/// our virtio-gpu (vhost-user-gpu-pci) and virtio keyboard (vhost-user-input-pci) in the guest, our VNC and PNG
/// sinks on the host, and a real LibVNCClient client (tools/vnc-client/vnc-type) connected throughout. The keys it
/// types reach a shell on the guest's tty1 through the VNC sink, the input router and the virtio keyboard; then
/// the guest sets a new mode with raw KMS ioctls (tools/guest-payloads/linux/drm-mode), the client sees a desktop
/// resize and stays connected, and both vncsnapshot and the <c>screenshot</c> control command show the new size
/// and colour.
/// </summary>
public sealed class VncPeersLinuxGuestTests
{
    private const int NewWidth = 800;
    private const int NewHeight = 600;
    private const string Colour = "20c060";
    private static readonly TimeSpan s_runLimit = TimeSpan.FromSeconds(240);
    private static readonly TimeSpan s_step = TimeSpan.FromSeconds(60);

    // A shell reads what is typed on tty1 (the VT the virtio keyboard types into) and answers on the serial
    // console; the script ends when that shell creates /tmp/done.
    private const string GuestScript =
        "echo MODES:$(cat /sys/class/drm/card0-Virtual-1/modes 2>/dev/null | tr '\\n' ' '); " +
        "echo KEYBOARD:$(grep -l 'Vmm Peers Keyboard' /sys/class/input/input*/name | wc -l); " +
        "command -v drm-mode >/dev/null && echo HAVE-DRM-MODE; " +
        // A QEMU thread starved for 250 ms between a key's down and up would otherwise see it repeat.
        "kbd-repeat 10000 1000; " +
        "sh </dev/tty1 >/dev/console 2>&1 & " +
        "echo KBD-SHELL-READY; " +
        "i=0; while [ ! -e /tmp/done ] && [ $i -lt 200 ]; do sleep 1; i=$((i+1)); done; " +
        "[ -e /tmp/done ] && echo GUEST-DONE";

    [Fact]
    public async Task Keys_typed_in_a_real_vnc_client_reach_the_guest_shell_and_a_guest_mode_change_resizes_its_desktop()
    {
        (QemuBinary qemu, string kernel, string initrd) = TestVm.QemuAndGuestImageOrSkip();

        if (RealVncClient.UnavailableReason is string missing)
        {
            Assert.Skip(missing);
        }

        string? clientPath = VncTypeClient.TryBuild(out string? clientProblem);
        if (clientPath is null)
        {
            Assert.Skip(clientProblem!);
        }

        string work = Directory.CreateTempSubdirectory("vmm-it-vnc-").FullName;
        using var routers = new VmRouters();
        using var vnc = new VncSink("vnc0", new IPEndPoint(IPAddress.Loopback, 0), inputRouter: routers.Input);
        using var png = new PngSink("png0");
        routers.Display.AddSink(vnc);
        routers.Display.AddSink(png);
        var commands = new ControlCommandRegistry();
        var control = new ControlServer(Path.Combine(work, "vm.sock"), commands);
        control.Start();
        using var console = new StringWriter();
        TextWriter serial = TextWriter.Synchronized(console);
        string Serial()
        {
            // TextWriter.Synchronized locks on the writer itself: read the text under the same lock.
            lock (serial)
            {
                return console.ToString();
            }
        }

        using var log = new StringWriter();
        using var loggerFactory = new TextLoggerFactory(TextWriter.Synchronized(log));
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(s_runLimit);
        VncTypeClient? client = null;
        Task<VmRunResult>? running = null;
        try
        {
            string command = Convert.ToBase64String(Encoding.UTF8.GetBytes(GuestScript));
            var machine = new MachineSpec(256UL << 20, 1, kernel, initrd, $"console=tty0 console=ttyS0 loglevel=4 panic=-1 vmm.cmd={command}");
            var gpu = new DeviceSpec("gpu0", "Vmm.Plugins.VirtioGpu", VirtioGpuDeviceFactory.Type, new VirtioGpuOptions(), new VirtioGpuDeviceFactory(), "$.devices[0]");
            var keyboard = new DeviceSpec(
                "kbd0",
                "Vmm.Plugins.VirtioInput",
                VirtioInputDeviceFactory.Type,
                new VirtioInputOptions { Kind = "keyboard", Name = "Vmm Peers Keyboard" },
                new VirtioInputDeviceFactory(),
                "$.devices[1]");
            var spec = new VmSpec(machine, PlatformKind.Qemu, [gpu, keyboard], null, null, work);
            var platform = new QemuPlatform(new QemuPlatformOptions { Accelerator = QemuAccelerator.Tcg, SerialOutput = serial });
            var context = new VmRunContext(loggerFactory, TestVm.Context().Plugins, commands) { Routers = routers };
            running = platform.RunAsync(spec, context, timeout.Token);

            // 1. The guest is up with a shell on tty1 and fbcon on our display; the client connects at the boot mode.
            Assert.True(await WaitAsync(() => Serial().Contains("KBD-SHELL-READY", StringComparison.Ordinal), running, timeout.Token), "The guest never said KBD-SHELL-READY.");
            Assert.True(await WaitAsync(() => png.FrameCount > 0, running, timeout.Token), "No frame reached the sinks.");
            client = VncTypeClient.Start(clientPath, vnc.LocalEndPoint.Port);
            Assert.NotNull(await client.WaitForLineAsync(l => l == "ready", s_step, timeout.Token));
            Assert.Equal("connected 1280x800", client.Lines[0]);

            // 2. Keys typed in the client run a command in the guest's shell; only the shell can turn 6*7 into 42.
            Assert.Equal("typed 24", await client.TypeAsync("echo vnc-typed-$((6*7))", s_step, timeout.Token));
            Assert.True(await WaitAsync(() => Serial().Contains("vnc-typed-42", StringComparison.Ordinal), running, timeout.Token), "The typed command's output never reached the serial console.");

            // 3. The guest sets 800x600 in one colour; the client is told the new size and stays connected.
            if (!Serial().Contains("HAVE-DRM-MODE", StringComparison.Ordinal))
            {
                Assert.Skip("The keys reached the guest, but the guest image has no /bin/drm-mode: rebuild it with tools/guest-image/build.sh where gcc and libdrm-dev are installed (tools/install-deps.sh).");
            }

            await client.TypeAsync($"drm-mode {NewWidth} {NewHeight} {Colour} &", s_step, timeout.Token);
            Assert.True(await WaitAsync(() => Serial().Contains($"drm-mode: set {NewWidth}x{NewHeight}", StringComparison.Ordinal), running, timeout.Token), "drm-mode did not set the mode.");
            Assert.Equal($"resize {NewWidth}x{NewHeight}", await client.WaitForLineAsync(l => l.StartsWith("resize ", StringComparison.Ordinal), s_step, timeout.Token));
            await client.SendAsync("size");
            Assert.Equal($"size {NewWidth}x{NewHeight}", await client.WaitForLineAsync(l => l.StartsWith("size ", StringComparison.Ordinal), s_step, timeout.Token));
            Assert.True(client.IsRunning, "The VNC client was dropped by the resize.");

            // The screenshot command (over the real control socket) and a second real client both see the new picture.
            byte[] expected = Convert.FromHexString(Colour);
            (int Width, int Height, byte[] Rgb) shot = default;
            Assert.True(
                await WaitAsync(
                    async () =>
                    {
                        shot = await TakeScreenshotAsync(control.SocketPath, Path.Combine(work, "shot.png"));
                        return shot.Width == NewWidth && shot.Rgb.AsSpan(((300 * NewWidth) + 400) * 3, 3).SequenceEqual(expected);
                    },
                    running,
                    timeout.Token),
                $"The screenshot never showed {NewWidth}x{NewHeight} in #{Colour} (last: {shot.Width}x{shot.Height}).");
            Assert.Equal((NewWidth, NewHeight), (shot.Width, shot.Height));
            for (int i = 0; i < NewWidth * NewHeight; i += 997)
            {
                Assert.True(shot.Rgb.AsSpan(i * 3, 3).SequenceEqual(expected), $"Screenshot pixel {i} is not #{Colour}.");
            }

            VncCaptureResult capture = RealVncClient.Capture(vnc.LocalEndPoint.Port, work);
            Assert.True(capture.Picture is not null, capture.Problem);
            Assert.Equal((NewWidth, NewHeight), (capture.Picture.Width, capture.Picture.Height));
            foreach ((int x, int y) in new[] { (10, 10), (400, 300), (790, 590) })
            {
                ReadOnlySpan<byte> pixel = capture.Picture.Pixel(x, y);
                for (int c = 0; c < 3; c++)
                {
                    Assert.InRange(pixel[c], expected[c] - 8, expected[c] + 8);
                }
            }

            // Typing still works after the resize: it ends the guest's script.
            Assert.Equal("typed 16", await client.TypeAsync("touch /tmp/done", s_step, timeout.Token));
            VmRunResult result = await running;
            string output = Serial();
            Assert.False(timeout.IsCancellationRequested, $"The guest did not power off within {s_runLimit.TotalSeconds} s.");
            Assert.Equal(VmRunOutcome.Stopped, result.Outcome);
            Assert.Contains("GUEST-DONE", output, StringComparison.Ordinal);
            Assert.Contains("VMM-GUEST: END rc=0", output, StringComparison.Ordinal);
            Assert.Contains("KEYBOARD:1", output, StringComparison.Ordinal);
            Assert.Contains("kbd-repeat: delay 10000 ms", output, StringComparison.Ordinal);
        }
        finally
        {
            string lines = client is null ? "(not started)" : string.Join("\n", client.Lines) + "\n" + client.Errors;
            client?.Dispose();
            if (running is not null && !running.IsCompleted)
            {
                await timeout.CancelAsync();
                try
                {
                    await running;
                }
                catch (OperationCanceledException)
                {
                }
            }

            TestContext.Current.TestOutputHelper?.WriteLine($"QEMU {qemu.Version}, guest console:\n{Serial()}\nvnc-type:\n{lines}\nVMM log:\n{log}");
            await control.DisposeAsync();
            Directory.Delete(work, recursive: true);
        }
    }

    private static async Task<(int Width, int Height, byte[] Rgb)> TakeScreenshotAsync(string socket, string path)
    {
        await using ControlClient control = await ControlClient.ConnectAsync(socket);
        ControlResponse reply = await control.SendAsync("screenshot", new JsonObject { ["path"] = path, ["sink"] = "png0" });
        if (!reply.Ok)
        {
            // Right after a mode change the sink waits for the first frame of the new size (no-frame).
            Assert.Equal(ScreenshotCommand.NoFrameCode, reply.ErrorCode);
            return (0, 0, []);
        }

        Assert.Equal("png", reply.Result.GetProperty("format").GetString());
        (int width, int height, byte[] rgb) = PngTestDecoder.Decode(await File.ReadAllBytesAsync(path));
        Assert.Equal((reply.Result.GetProperty("width").GetInt32(), reply.Result.GetProperty("height").GetInt32()), (width, height));
        return (width, height, rgb);
    }

    /// <summary>Polls <paramref name="condition"/> every 250 ms; false when the VM ended or a minute passed first.</summary>
    private static Task<bool> WaitAsync(Func<bool> condition, Task running, CancellationToken cancellationToken)
        => WaitAsync(() => Task.FromResult(condition()), running, cancellationToken);

    private static async Task<bool> WaitAsync(Func<Task<bool>> condition, Task running, CancellationToken cancellationToken)
    {
        DateTime until = DateTime.UtcNow + s_step;
        while (DateTime.UtcNow < until && !running.IsCompleted)
        {
            if (await condition())
            {
                return true;
            }

            await Task.Delay(250, cancellationToken);
        }

        return await condition();
    }
}

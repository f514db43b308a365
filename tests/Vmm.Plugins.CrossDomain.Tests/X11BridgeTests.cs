using System.Diagnostics;
using System.Net.Sockets;

namespace Vmm.Plugins.CrossDomain.Tests;

/// <summary>
/// Real X clients through the guest-side X11 bridge: each connects to the bridge's display, gets its own
/// cross-domain context on the in-process virtio-gpu, and reaches the host's Xvfb through the X11 channel. What
/// they do is checked on the host display with the real X tools (xwininfo, xwd, xdotool).
/// </summary>
[Collection(XvfbCollection.Name)]
public sealed class X11BridgeTests(BridgeFixture fixture) : IClassFixture<BridgeFixture>
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(20);

    [Fact]
    public void Xdpyinfo_through_the_bridge_prints_what_it_prints_directly()
    {
        fixture.SkipUnlessReady("xdpyinfo");
        string direct = XvfbServer.Run(fixture.Xvfb.Display, "xdpyinfo").Output;
        string bridged = RunBridged("xdpyinfo");

        // Only the display's name may differ.
        static string[] Comparable(string output) => [.. output.Split('\n').Where(line => !line.StartsWith("name of display:", StringComparison.Ordinal))];
        Assert.Contains("MIT-SHM", bridged, StringComparison.Ordinal);
        Assert.Equal(Comparable(direct), Comparable(bridged));
    }

    [Fact]
    public void Several_clients_at_once_each_get_their_own_context()
    {
        fixture.SkipUnlessReady("xdpyinfo");
        int before = fixture.Bridge!.ClientsAccepted;
        string[] outputs = new string[4];
        Parallel.For(0, outputs.Length, i => outputs[i] = RunBridged("xdpyinfo"));
        Assert.All(outputs, output => Assert.Contains("screen #0:", output, StringComparison.Ordinal));
        Assert.True(fixture.Bridge.ClientsAccepted >= before + 4);
        Assert.True(fixture.Bridge.Faults.IsEmpty, string.Join(" | ", fixture.Bridge.Faults));
    }

    [Theory]
    [InlineData("xlogo", "-geometry", "120x100+40+50")]
    [InlineData("xeyes", "-geometry", "120x100+200+50")]
    [InlineData("xclock", "-geometry", "120x100+360+50")]
    public void A_real_client_window_is_on_the_host_display_with_its_pixels(string program, string option, string geometry)
    {
        fixture.SkipUnlessReady(program, "xwininfo", "xwd");
        using Process client = XvfbServer.StartClient(fixture.Display, program, option, geometry);
        try
        {
            (int X, int Y, int Width, int Height) window = WaitFor(() => XwdCapture.FindWindow(fixture.Xvfb.Display, $"\"{program}\""), $"{program}'s window on the host display");
            Assert.Equal((120, 100), (window.Width, window.Height));

            // Drawn means pixels other than the black root inside the window's rectangle, in more than one colour.
            WaitFor(() =>
            {
                XwdCapture capture = XwdCapture.Take(fixture.Xvfb.Display);
                var colours = new HashSet<uint>();
                for (int y = window.Y; y < window.Y + window.Height; y++)
                {
                    for (int x = window.X; x < window.X + window.Width; x++)
                    {
                        colours.Add(capture.Pixel(x, y));
                    }
                }

                return colours.Count > 1 && colours.Any(colour => colour != 0) ? colours : null;
            }, $"{program}'s drawing in an xwd capture of the host display");
        }
        finally
        {
            client.Kill();
            client.WaitForExit();
        }
    }

    [Theory]
    [InlineData("sysv", 40)]
    [InlineData("fd", 200)]
    [InlineData("core", 360)]
    public void Put_image_pixels_reach_the_host_display_exactly(string mode, int left)
    {
        fixture.SkipUnlessReady("x11-probe", "xwd");
        const int top = 250, width = 96, height = 64;
        using Process client = XvfbServer.StartClient(fixture.Display, XProbe.Path, "draw", mode, $"{width}", $"{height}", $"{left}", $"{top}");
        try
        {
            string? line = ReadLine(client);
            if (line is null || !line.StartsWith("drawn ", StringComparison.Ordinal))
            {
                client.StandardInput.Close();
                Assert.Fail($"x11-probe draw {mode}: {line} {client.StandardError.ReadToEnd()}; bridge faults: {string.Join(" | ", fixture.Bridge!.Faults)}");
            }

            XwdCapture capture = XwdCapture.Take(fixture.Xvfb.Display);
            for (int y = 0; y < height; y++)
            {
                for (int x = 0; x < width; x++)
                {
                    uint expected = ((uint)(x * 4) & 0xFF) << 16 | ((uint)(y * 5) & 0xFF) << 8 | 0x40;
                    Assert.True(expected == capture.Pixel(left + x, top + y), $"pixel ({x}, {y}) drawn by {mode} is {capture.Pixel(left + x, top + y):x6}, not {expected:x6}");
                }
            }
        }
        finally
        {
            client.StandardInput.Close();
            client.Kill();
            client.WaitForExit();
        }
    }

    [Fact]
    public void Xdotool_key_and_pointer_events_on_the_host_reach_a_bridged_client()
    {
        fixture.SkipUnlessReady("x11-probe", "xdotool");
        using Process client = XvfbServer.StartClient(fixture.Display, XProbe.Path, "events", "100", "80", "500", "350");
        try
        {
            string? ready = ReadLine(client);
            Assert.StartsWith("ready ", ready, StringComparison.Ordinal);
            XvfbServer.Run(fixture.Xvfb.Display, "xdotool", "mousemove", "--sync", "540", "380", "click", "1", "key", "a");
            var lines = new List<string>();
            while (lines.Count < 2)
            {
                string? line = ReadLine(client);
                Assert.NotNull(line);
                lines.Add(line);
            }

            Assert.Contains("button 1", lines);
            Assert.Contains(lines, line => line.StartsWith("key ", StringComparison.Ordinal));
            Assert.True(client.WaitForExit(20_000), "the client did not see both events");
        }
        finally
        {
            if (!client.HasExited)
            {
                client.Kill();
            }
        }
    }

    [Fact]
    public void A_client_that_floods_or_dies_mid_request_leaves_the_device_and_other_clients_working()
    {
        fixture.SkipUnlessReady("xdpyinfo");
        string path = Path.Combine(Path.GetTempPath(), $"xbridge-{Guid.NewGuid():N}", "X0");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var pathBridge = X11Bridge.Start(fixture.Gpu!, path);

        // A flood: 20,000 GetInputFocus requests (80 KB) and not one reply read.
        using Socket flood = Connect(path);
        byte[] burst = new byte[4 * 20_000];
        for (int i = 0; i < burst.Length; i += 4)
        {
            burst[i] = 43; // GetInputFocus, length 1
            burst[i + 2] = 1;
        }

        flood.Send(burst);

        // Meanwhile another client on the other socket works.
        Assert.Contains("screen #0:", RunBridged("xdpyinfo"), StringComparison.Ordinal);

        // A client that dies half-way through a CreateWindow.
        using (Socket dying = Connect(path))
        {
            dying.Send(X11Wire.CreateWindow(0x1234, 0, 0, 0, 10, 10).AsSpan(0, 20));
        }

        flood.Close();
        bool ended = SpinWait.SpinUntil(() => pathBridge.ActiveClients == 0, TimeSpan.FromSeconds(60));
        Assert.True(ended, $"{pathBridge.ActiveClients} of both clients' contexts were not destroyed within 60 s; bridge faults: {string.Join(" | ", pathBridge.Faults)}");
        Assert.Contains("screen #0:", RunBridged("xdpyinfo"), StringComparison.Ordinal);
        Assert.Equal(2, pathBridge.ClientsAccepted);
        pathBridge.Dispose();
        Assert.False(File.Exists(path));
    }

    /// <summary>Runs a client through the bridge; a failure names what the bridge saw go wrong.</summary>
    private string RunBridged(string program, params string[] arguments)
    {
        try
        {
            return XvfbServer.Run(fixture.Display, program, arguments).Output;
        }
        catch (InvalidOperationException exception)
        {
            throw new InvalidOperationException($"{exception.Message}; bridge faults: {string.Join(" | ", fixture.Bridge!.Faults)}", exception);
        }
    }

    private static string? ReadLine(Process client)
        => client.StandardOutput.ReadLineAsync(TestContext.Current.CancellationToken).AsTask().WaitAsync(s_wait, TestContext.Current.CancellationToken).Result;

    /// <summary>Connects a raw client and completes the connection setup (reading the reply).</summary>
    private static Socket Connect(string path)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Connect(new UnixDomainSocketEndPoint(path));
        socket.Send(X11Wire.ConnectionSetup());
        byte[] header = new byte[8];
        socket.ReceiveTimeout = 20_000;
        for (int read = 0; read < 8; read += socket.Receive(header, read, 8 - read, SocketFlags.None))
        {
        }

        Assert.Equal(1, header[0]);
        byte[] rest = new byte[X11Wire.SetupReplyLength(header) - 8];
        for (int read = 0; read < rest.Length; read += socket.Receive(rest, read, rest.Length - read, SocketFlags.None))
        {
        }

        return socket;
    }

    private static T WaitFor<T>(Func<T?> probe, string what)
        where T : notnull
    {
        long deadline = Environment.TickCount64 + (long)s_wait.TotalMilliseconds;
        while (true)
        {
            if (probe() is T value)
            {
                return value;
            }

            Assert.True(Environment.TickCount64 < deadline, $"no {what} within {s_wait}");
            Thread.Sleep(100);
        }
    }

    private static (int, int, int, int) WaitFor(Func<(int, int, int, int)?> probe, string what)
    {
        long deadline = Environment.TickCount64 + (long)s_wait.TotalMilliseconds;
        while (true)
        {
            if (probe() is { } value)
            {
                return value;
            }

            Assert.True(Environment.TickCount64 < deadline, $"no {what} within {s_wait}");
            Thread.Sleep(100);
        }
    }
}

/// <summary>Tests that share one Xvfb's screen (windows at fixed places, pixel checks) run one at a time.</summary>
[CollectionDefinition(Name)]
public sealed class XvfbCollection
{
    public const string Name = "xvfb screen";
}

using Vmm.Plugins.CrossDomain.Host;
using Vmm.Plugins.CrossDomain.Protocol;

namespace Vmm.Plugins.CrossDomain.Tests;

/// <summary>
/// End to end against a real X server: a guest bridge drives virtio-gpu's cross-domain context through the
/// in-process PCI driver, its X11 bytes reach the host's Xvfb through the X11 channel, and Xvfb's real replies come
/// back through RECEIVE in the channel ring; the window it created is seen by xwininfo on the host display.
/// </summary>
public sealed class X11ThroughCrossDomainTests(XvfbServer xvfb) : IClassFixture<XvfbServer>
{
    private const uint X11Channel = (uint)CrossDomainChannelType.X11;

    [Fact]
    public void An_x11_client_gets_real_replies_from_the_host_server_and_its_window_exists_there()
    {
        SkipWithoutXvfb();
        using var guest = TestGuests.Create(new CrossDomainSettings(x11: DisplaySocket.ParseX11(xvfb.Display, out _)));
        guest.Open(X11Channel);

        guest.Send(X11Wire.ConnectionSetup());
        byte[] header = guest.Receive(8);
        Assert.Equal(1, header[0]);
        byte[] rest = guest.Receive(X11Wire.SetupReplyLength(header) - 8);
        (uint idBase, uint root, _, ushort width, ushort height) = X11Wire.ParseSetup([.. header, .. rest]);
        Assert.Equal((640, 480), (width, height));

        guest.Send(X11Wire.QueryExtension("MIT-SHM"));
        byte[] extension = guest.Receive(32);
        Assert.Equal((1, (ushort)1), (extension[0], X11Wire.U16(extension, 2)));
        Assert.Equal(1, extension[8]);

        uint window = idBase | 1;
        guest.Send([.. X11Wire.CreateWindow(window, root, 10, 20, 64, 48), .. X11Wire.OneId(8, window), .. X11Wire.OneId(14, window)]);
        byte[] geometry = guest.Receive(32);
        Assert.Equal(1, geometry[0]);
        Assert.Equal((ushort)4, X11Wire.U16(geometry, 2));
        Assert.Equal(root, X11Wire.U32(geometry, 8));
        Assert.Equal((10, 20, 64, 48), ((short)X11Wire.U16(geometry, 12), (short)X11Wire.U16(geometry, 14), X11Wire.U16(geometry, 16), X11Wire.U16(geometry, 18)));

        // The host X server itself has the window, mapped, at that size.
        string info = xvfb.RunClient("xwininfo", "-id", $"0x{window:x}");
        Assert.Contains("Width: 64", info, StringComparison.Ordinal);
        Assert.Contains("Height: 48", info, StringComparison.Ordinal);
        Assert.Contains("Map State: IsViewable", info, StringComparison.Ordinal);
    }

    [Fact]
    public void Closing_the_context_returns_the_parked_poll_and_the_server_sees_the_client_go()
    {
        SkipWithoutXvfb();
        using var guest = TestGuests.Create(new CrossDomainSettings(x11: DisplaySocket.ParseX11(xvfb.Display, out _)));
        guest.Open(X11Channel);
        guest.Send(X11Wire.ConnectionSetup());
        byte[] header = guest.Receive(8);
        (uint idBase, uint root, _, _, _) = X11Wire.ParseSetup([.. header, .. guest.Receive(X11Wire.SetupReplyLength(header) - 8)]);
        uint window = idBase | 7;
        guest.Send([.. X11Wire.CreateWindow(window, root, 0, 0, 32, 32), .. X11Wire.OneId(14, window)]);
        Assert.Equal(1, guest.Receive(32)[0]);

        Assert.Equal(CrossDomainCommands.OkNoData, guest.Control(CrossDomainCommands.Command(0x0201, 24, CrossDomainGuest.ContextId)));
        Assert.True(guest.PollReturned(TimeSpan.FromSeconds(10)), "the POLL parked at CTX_DESTROY never came back");

        // The socket closed, so the server frees the client's window (once it has noticed).
        long deadline = Environment.TickCount64 + 10_000;
        while (xvfb.RunClient("xwininfo", "-root", "-tree").Contains($"0x{window:x} ", StringComparison.Ordinal))
        {
            Assert.True(Environment.TickCount64 < deadline, "the window outlived its client's context");
            Thread.Sleep(50);
        }
    }

    private void SkipWithoutXvfb()
    {
        if (xvfb.SkipReason is string reason)
        {
            Assert.Skip(reason);
        }
    }
}

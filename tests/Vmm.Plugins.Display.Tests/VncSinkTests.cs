using System.Net;
using Vmm.Contracts.Display;
using Vmm.Contracts.Input;
using Vmm.Plugins.Display.Vnc;

namespace Vmm.Plugins.Display.Tests;

/// <summary>The VNC sink against a test RFB client over real loopback TCP.</summary>
public sealed class VncSinkTests : IDisposable
{
    private readonly RecordingInputRouter _input = new();
    private readonly VncSink _sink;

    public VncSinkTests()
    {
        _sink = new VncSink("vnc0", new IPEndPoint(IPAddress.Loopback, 0), "test desktop", _input);
    }

    public void Dispose() => _sink.Dispose();

    [Fact]
    public void Handshake_and_a_raw_full_update_carry_the_frame()
    {
        var mode = new DisplayMode(50, 20, 200, PixelFormat.B8G8R8X8);
        byte[] pixels = Frames.Noise(50, 20);
        _sink.OnModeChanged(mode);
        Frames.Publish(_sink, mode, pixels);

        using var client = Connect();
        client.SetEncodings(0);
        client.RequestUpdate(incremental: false);
        var rects = client.ReadUpdate();

        Assert.Equal("test desktop", client.Name);
        Assert.Equal((50, 20), (client.Width, client.Height));
        Assert.Equal([32, 24, 0, 1], client.ServerPixelFormat[..4]);
        Assert.Equal([(0, 0, 50, 20, 0)], rects);
        AssertSame(pixels, client);
    }

    [Fact]
    public void Zrle_carries_noisy_and_solid_tiles_and_partial_edge_tiles()
    {
        var mode = new DisplayMode(150, 70, 600, PixelFormat.B8G8R8X8);
        byte[] pixels = Frames.Noise(150, 70);
        pixels.AsSpan(0, 600 * 64).Fill(0x40); // the first row of tiles is solid
        _sink.OnModeChanged(mode);
        Frames.Publish(_sink, mode, pixels);

        using var client = Connect();
        client.SetEncodings(16, 0);
        client.RequestUpdate(incremental: false);
        Assert.Equal([16], client.ReadUpdate().Select(r => r.Encoding));
        AssertSame(pixels, client);

        // A second update goes through the same zlib stream.
        byte[] next = Frames.Noise(150, 70, seed: 9);
        Frames.Publish(_sink, mode, next, new DamageRect(10, 10, 100, 50));
        client.RequestUpdate(incremental: true);
        Assert.Equal([(10, 10, 100, 50, 16)], client.ReadUpdate());
        Assert.Equal(next.AsSpan(((30 * 150) + 40) * 4, 3).ToArray(), client.Pixel(40, 30));
    }

    [Fact]
    public void Zrle_sends_few_colour_tiles_as_packed_palettes_of_one_two_and_four_bits()
    {
        // Three bands of tiles: two colours (1 bit a pixel), four (2 bits) and sixteen (4 bits); the right edge
        // tiles are 22 pixels wide, so rows end mid-byte and must be padded.
        var mode = new DisplayMode(150, 192, 600, PixelFormat.B8G8R8X8);
        byte[] pixels = new byte[600 * 192];
        for (int y = 0; y < 192; y++)
        {
            int colours = y < 64 ? 2 : y < 128 ? 4 : 16;
            for (int x = 0; x < 150; x++)
            {
                int c = ((x * 7) + (y * 3)) % colours;
                int o = ((y * 150) + x) * 4;
                (pixels[o], pixels[o + 1], pixels[o + 2]) = ((byte)(c * 15), (byte)(255 - (c * 11)), (byte)(c * 5));
            }
        }

        _sink.OnModeChanged(mode);
        Frames.Publish(_sink, mode, pixels);
        using var client = Connect();
        client.SetEncodings(16);
        client.RequestUpdate(incremental: false);
        Assert.Equal([16], client.ReadUpdate().Select(r => r.Encoding));

        AssertSame(pixels, client);
        Assert.Equal([2, 2, 2, 4, 4, 4, 16, 16, 16], client.LastZrleSubencodings);
    }

    [Fact]
    public void Incremental_updates_carry_only_the_damage()
    {
        var mode = new DisplayMode(32, 32, 128, PixelFormat.B8G8R8X8);
        _sink.OnModeChanged(mode);
        Frames.Publish(_sink, mode, Frames.Noise(32, 32));
        using var client = Connect();
        client.SetEncodings(0);
        client.RequestUpdate(incremental: false);
        client.ReadUpdate();

        Frames.Publish(_sink, mode, Frames.Noise(32, 32, seed: 3), new DamageRect(4, 5, 6, 7));
        client.RequestUpdate(incremental: true);

        Assert.Equal([(4, 5, 6, 7, 0)], client.ReadUpdate());
    }

    [Fact]
    public void A_scrolled_console_goes_as_copy_rect_plus_the_exposed_strip()
    {
        var mode = new DisplayMode(64, 64, 256, PixelFormat.B8G8R8X8);
        byte[] before = Frames.Noise(64, 64, seed: 4);
        _sink.OnModeChanged(mode);
        Frames.Publish(_sink, mode, before);
        using var client = Connect();
        client.SetEncodings(1, 0);
        client.RequestUpdate(incremental: false);
        client.ReadUpdate();

        // Scrolled up by 16 rows, with 16 new rows at the bottom; the source damages the whole screen.
        byte[] after = new byte[before.Length];
        before.AsSpan(16 * 256).CopyTo(after);
        Frames.Noise(64, 16, seed: 6).CopyTo(after.AsSpan(48 * 256));
        Frames.Publish(_sink, mode, after);
        client.RequestUpdate(incremental: true);

        Assert.Equal([(0, 0, 64, 48, 1), (0, 48, 64, 16, 0)], client.ReadUpdate());
        AssertSame(after, client);
    }

    [Fact]
    public void A_segmented_frame_scrolls_and_updates_as_one_span_does()
    {
        // The scroll detector reads the new rows through ReadRow: segments of 97 bytes cut every row mid-way.
        var mode = new DisplayMode(64, 64, 256, PixelFormat.B8G8R8X8);
        byte[] before = Frames.Noise(64, 64, seed: 4);
        _sink.OnModeChanged(mode);
        Frames.PublishSegmented(_sink, mode, before, 97);
        using var client = Connect();
        client.SetEncodings(1, 0);
        client.RequestUpdate(incremental: false);
        client.ReadUpdate();
        AssertSame(before, client);

        byte[] after = new byte[before.Length];
        before.AsSpan(16 * 256).CopyTo(after);
        Frames.Noise(64, 16, seed: 6).CopyTo(after.AsSpan(48 * 256));
        Frames.PublishSegmented(_sink, mode, after, 97);
        client.RequestUpdate(incremental: true);

        Assert.Equal([(0, 0, 64, 48, 1), (0, 48, 64, 16, 0)], client.ReadUpdate());
        AssertSame(after, client);
    }

    [Fact]
    public void A_mode_change_sends_desktop_size_and_keeps_the_client()
    {
        var small = new DisplayMode(16, 16, 64, PixelFormat.B8G8R8X8);
        _sink.OnModeChanged(small);
        Frames.Publish(_sink, small, Frames.Noise(16, 16));
        using var client = Connect();
        client.SetEncodings(0, -223);
        client.RequestUpdate(incremental: false);
        client.ReadUpdate();

        var large = new DisplayMode(40, 24, 160, PixelFormat.B8G8R8X8);
        byte[] pixels = Frames.Noise(40, 24, seed: 5);
        _sink.OnModeChanged(large);
        Frames.Publish(_sink, large, pixels);
        client.RequestUpdate(incremental: true);

        Assert.Equal([(0, 0, 40, 24, -223)], client.ReadUpdate());
        Assert.Equal([(0, 0, 40, 24, 0)], client.ReadUpdate());
        AssertSame(pixels, client);
    }

    [Fact]
    public void The_cursor_goes_as_the_cursor_pseudo_encoding()
    {
        var mode = new DisplayMode(16, 16, 64, PixelFormat.B8G8R8X8);
        _sink.OnModeChanged(mode);
        Frames.Publish(_sink, mode, Frames.Noise(16, 16));
        _sink.OnCursorShape(new CursorShape(8, 8, 2, 3, new byte[8 * 8 * 4]));
        using var client = Connect();
        client.SetEncodings(0, -239);
        client.RequestUpdate(incremental: false);

        client.ReadUpdate();

        Assert.Equal((2, 3, 8, 8), client.LastCursor);
    }

    [Fact]
    public void Keys_and_pointer_reach_the_input_router_as_keyboard_and_tablet_events()
    {
        var mode = new DisplayMode(101, 51, 404, PixelFormat.B8G8R8X8);
        _sink.OnModeChanged(mode);
        Frames.Publish(_sink, mode, Frames.Noise(101, 51));
        using var client = Connect();
        client.SendKey(down: true, 'a');
        client.SendKey(down: false, 0xFF0D);
        client.SendPointer(1, 100, 50);
        // A round trip orders the input before the assertions.
        client.SetEncodings(0);
        client.RequestUpdate(incremental: false);
        client.ReadUpdate();

        var published = _input.Published;
        Assert.Equal(InputDeviceKind.Keyboard, published[0].Kind);
        Assert.Equal([new InputEvent(1, 30, 1), InputEvent.SynReport], published[0].Events);
        Assert.Equal([new InputEvent(1, 28, 0), InputEvent.SynReport], published[1].Events);
        Assert.Equal(InputDeviceKind.Tablet, published[2].Kind);
        Assert.Equal([new InputEvent(3, 0, 0x7FFF), new InputEvent(3, 1, 0x7FFF), new InputEvent(1, 0x110, 1), InputEvent.SynReport], published[2].Events);
    }

    [Fact]
    public void A_client_with_a_16_bit_pixel_format_gets_converted_pixels()
    {
        var mode = new DisplayMode(2, 1, 8, PixelFormat.B8G8R8X8);
        _sink.OnModeChanged(mode);
        Frames.Publish(_sink, mode, [0x00, 0x00, 0xFF, 0, 0xFF, 0xFF, 0xFF, 0]);
        using var client = Connect();
        client.SetPixelFormat565();
        client.SetEncodings(0);
        client.RequestUpdate(incremental: false);

        byte[] raw = client.ReadRawUpdate16(2);

        // RGB565 little-endian: pure red is 0xF800, white 0xFFFF.
        Assert.Equal(new byte[] { 0x00, 0xF8, 0xFF, 0xFF }, raw);
    }

    private RfbTestClient Connect()
    {
        var client = new RfbTestClient(_sink.LocalEndPoint);
        client.Handshake();
        return client;
    }

    private static void AssertSame(byte[] bgrx, RfbTestClient client)
    {
        for (int i = 0; i < client.Width * client.Height; i++)
        {
            if (bgrx[i * 4] != client.Framebuffer[i * 4] || bgrx[(i * 4) + 1] != client.Framebuffer[(i * 4) + 1] || bgrx[(i * 4) + 2] != client.Framebuffer[(i * 4) + 2])
            {
                Assert.Fail($"pixel {i % client.Width},{i / client.Width} differs");
            }
        }
    }
}

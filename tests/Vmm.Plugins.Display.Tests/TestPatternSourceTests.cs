using Microsoft.Extensions.Logging.Abstractions;
using Vmm.Contracts.Devices;
using Vmm.Contracts.Display;
using Vmm.Core.Display;
using Vmm.Plugins.Display.Png;
using Vmm.Plugins.Display.TestPattern;
using Vmm.Testing.Devices;

namespace Vmm.Plugins.Display.Tests;

public sealed class TestPatternSourceTests
{
    [Fact]
    public void Each_connect_publishes_the_mode_and_one_full_frame_of_eight_bars()
    {
        using var source = new TestPatternSource("pattern0", 16, 2, TestPatternKind.Bars, (0, 0, 0));
        var sink = new CapturingSink();

        source.Connect(sink);
        source.Connect(sink);

        DisplayMode mode = new(16, 2, 64, PixelFormat.B8G8R8X8);
        Assert.Equal([mode, mode], sink.Modes);
        Assert.Equal([1UL, 2UL], sink.Frames.Select(f => f.Sequence));
        (_, byte[] pixels, DamageRect[] damage, _) = sink.Frames[0];
        Assert.Equal([new DamageRect(0, 0, 16, 2)], damage);
        // Two pixels per bar, B,G,R,X: white, yellow, cyan, green, magenta, red, blue, black; row 1 equals row 0.
        (byte R, byte G, byte B)[] expected = [(255, 255, 255), (255, 255, 0), (0, 255, 255), (0, 255, 0), (255, 0, 255), (255, 0, 0), (0, 0, 255), (0, 0, 0)];
        for (int x = 0; x < 16; x++)
        {
            (byte r, byte g, byte b) = expected[x / 2];
            Assert.Equal([b, g, r, 0xFF], pixels.AsSpan(x * 4, 4).ToArray());
            Assert.Equal([b, g, r, 0xFF], pixels.AsSpan(64 + (x * 4), 4).ToArray());
        }
    }

    [Fact]
    public void A_solid_pattern_is_one_colour_and_disconnect_stops_nothing_further()
    {
        using var source = new TestPatternSource("pattern0", 3, 3, TestPatternKind.Solid, (0x33, 0x66, 0xCC));
        var sink = new CapturingSink();

        source.Connect(sink);
        source.Disconnect();

        byte[] pixels = Assert.Single(sink.Frames).Pixels;
        Assert.All(pixels.Chunk(4), p => Assert.Equal([0xCC, 0x66, 0x33, 0xFF], p));
        Assert.Equal(new DisplayMode(3, 3, 12, PixelFormat.B8G8R8X8), source.CurrentMode);
    }

    [Fact]
    public void Switching_a_router_to_it_shows_it_on_a_png_sink()
    {
        var router = new DisplayRouter();
        using var first = new TestPatternSource("a", 4, 4, TestPatternKind.Solid, (255, 0, 0));
        using var second = new TestPatternSource("b", 4, 4, TestPatternKind.Solid, (0, 0, 255));
        using var png = new PngSink("png0");
        router.AddDevices([first, second, png]);

        router.SwitchSource("b");

        (_, _, byte[] rgb) = PngTestDecoder.Decode(png.EncodeSnapshot()!);
        Assert.Equal([0, 0, 255], rgb[..3]);
    }

    [Theory]
    [InlineData("""{"width":0}""", "$.o.width", "must be 1 to 8192, not 0.")]
    [InlineData("""{"height":9000}""", "$.o.height", "must be 1 to 8192, not 9000.")]
    [InlineData("""{"color":"green"}""", "$.o.color", "expected #rrggbb (six hex digits), not 'green'.")]
    [InlineData("""{"color":"#12345g"}""", "$.o.color", "expected #rrggbb (six hex digits), not '#12345g'.")]
    public void Bad_options_are_reported_by_member(string json, string path, string message)
    {
        IDeviceFactory factory = new TestPatternSourceFactory();
        object options = System.Text.Json.JsonSerializer.Deserialize(json, factory.OptionsType, Vmm.Core.Config.DeviceOptionsSerializer.Options)!;
        var context = new DeviceOptionsValidationContext("$.o", "/");

        factory.Validate(options, context);

        Assert.Equal([(path, message)], context.Errors);
    }

    [Fact]
    public void The_factory_makes_a_source_with_the_options_size()
    {
        IDeviceFactory factory = new TestPatternSourceFactory();
        object options = System.Text.Json.JsonSerializer.Deserialize("""{"width":320,"height":200,"pattern":"solid","color":"#00ff00"}""", factory.OptionsType, Vmm.Core.Config.DeviceOptionsSerializer.Options)!;

        using IDevice device = factory.Create(new DeviceCreateContext("p", NullLoggerFactory.Instance, null, EmptyServiceProvider.Instance, "/"), options);

        IDisplaySource source = Assert.IsAssignableFrom<IDisplaySource>(device);
        Assert.Equal(new DisplayMode(320, 200, 1280, PixelFormat.B8G8R8X8), source.CurrentMode);
        Assert.Equal("display-test-pattern", factory.DeviceType);
    }
}

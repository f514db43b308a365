using Vmm.Contracts.Display;
using Vmm.Core.Control;
using Vmm.Core.Display;
using Vmm.Plugins.Display.Png;

namespace Vmm.Plugins.Display.Tests;

public sealed class PngSinkTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("vmm-png-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void Only_damaged_rectangles_are_copied()
    {
        using var sink = new PngSink("png0");
        var mode = new DisplayMode(8, 4, 32, PixelFormat.B8G8R8X8);
        byte[] first = Frames.Noise(8, 4, seed: 1);
        byte[] second = Frames.Noise(8, 4, seed: 2);
        sink.OnModeChanged(mode);
        Frames.Publish(sink, mode, first);
        Frames.Publish(sink, mode, second, new DamageRect(2, 1, 3, 2), new DamageRect(7, 3, 5, 5));

        (_, _, byte[] rgb) = PngTestDecoder.Decode(sink.EncodeSnapshot()!);

        byte[] expected = (byte[])first.Clone();
        foreach ((int x, int y) in new[] { (2, 1), (3, 1), (4, 1), (2, 2), (3, 2), (4, 2), (7, 3) })
        {
            second.AsSpan(((y * 8) + x) * 4, 4).CopyTo(expected.AsSpan(((y * 8) + x) * 4));
        }

        Assert.Equal(Frames.Rgb(expected, 32), rgb);
    }

    [Theory]
    [InlineData(PixelFormat.B8G8R8X8)]
    [InlineData(PixelFormat.X8R8G8B8)]
    [InlineData(PixelFormat.R8G8B8A8)]
    public void A_segmented_frame_gives_the_same_picture_as_one_span(PixelFormat format)
    {
        // A stride wider than the rows, segments cut every 37 bytes: damage crosses cuts mid-row and mid-pixel.
        var mode = new DisplayMode(9, 6, 44, format);
        byte[] first = Frames.Noise(11, 6, seed: 7)[..((5 * 44) + 36)];
        byte[] second = Frames.Noise(11, 6, seed: 8)[..first.Length];
        DamageRect[] damage = [new DamageRect(2, 1, 5, 3), new DamageRect(8, 5, 1, 1), new DamageRect(0, 4, 9, 1)];
        using var whole = new PngSink("png0");
        using var segmented = new PngSink("png1");
        whole.OnModeChanged(mode);
        segmented.OnModeChanged(mode);

        Frames.Publish(whole, mode, first);
        Frames.Publish(whole, mode, second, damage);
        Frames.PublishSegmented(segmented, mode, first, 37);
        Frames.PublishSegmented(segmented, mode, second, 37, damage);

        Assert.Equal(2, segmented.FrameCount);
        Assert.Equal(PngTestDecoder.Decode(whole.EncodeSnapshot()!).Rgb, PngTestDecoder.Decode(segmented.EncodeSnapshot()!).Rgb);
    }

    [Theory]
    [InlineData(PixelFormat.R8G8B8A8, 0, 1, 2)]
    [InlineData(PixelFormat.X8R8G8B8, 1, 2, 3)]
    [InlineData(PixelFormat.A8B8G8R8, 3, 2, 1)]
    [InlineData(PixelFormat.B8G8R8A8, 2, 1, 0)]
    public void Every_format_is_converted(PixelFormat format, int red, int green, int blue)
    {
        using var sink = new PngSink("png0");
        var mode = new DisplayMode(1, 1, 4, format);
        byte[] pixel = new byte[4];
        pixel[red] = 0x11;
        pixel[green] = 0x22;
        pixel[blue] = 0x33;
        sink.OnModeChanged(mode);
        Frames.Publish(sink, mode, pixel);

        (_, _, byte[] rgb) = PngTestDecoder.Decode(sink.EncodeSnapshot()!);

        Assert.Equal(new byte[] { 0x11, 0x22, 0x33 }, rgb);
    }

    [Fact]
    public async Task A_snapshot_before_any_frame_fails_and_path_on_exit_is_written_on_dispose()
    {
        string path = Path.Combine(_folder, "exit.png");
        var sink = new PngSink("png0", path);
        await Assert.ThrowsAsync<InvalidOperationException>(() => sink.SnapshotAsync(Path.Combine(_folder, "none.png"), TestContext.Current.CancellationToken));
        var mode = new DisplayMode(2, 2, 8, PixelFormat.B8G8R8X8);
        sink.OnModeChanged(mode);
        Frames.Publish(sink, mode, Frames.Noise(2, 2));

        sink.Dispose();

        (int width, int height, _) = PngTestDecoder.Decode(await File.ReadAllBytesAsync(path, TestContext.Current.CancellationToken));
        Assert.Equal((2, 2), (width, height));
    }

    [Fact]
    public async Task The_screenshot_control_command_writes_the_sinks_picture_as_a_png_with_its_pixels()
    {
        var router = new DisplayRouter();
        using var png = new PngSink("png0");
        router.AddSink(png);
        var commands = new ControlCommandRegistry();
        commands.Add(new ScreenshotCommand(router));
        await using var server = new ControlServer(Path.Combine(_folder, "vm.sock"), commands);
        server.Start();

        // 3x2, R8G8B8A8 as a guest might scan out: six distinct colours.
        var mode = new DisplayMode(3, 2, 12, PixelFormat.R8G8B8A8);
        byte[] rgba =
        [
            0xFF, 0x00, 0x00, 0xFF, 0x00, 0xFF, 0x00, 0xFF, 0x00, 0x00, 0xFF, 0xFF,
            0x12, 0x34, 0x56, 0xFF, 0xFE, 0xDC, 0xBA, 0x00, 0x80, 0x80, 0x80, 0x7F,
        ];
        png.OnModeChanged(mode);
        png.OnFrame(new DisplayFrame(mode, rgba, [new DamageRect(0, 0, 3, 2)], 41));
        png.OnFrame(new DisplayFrame(mode, rgba, [new DamageRect(1, 1, 1, 1)], 42));
        string path = Path.Combine(_folder, "shot.png");

        await using ControlClient client = await ControlClient.ConnectAsync(server.SocketPath, TestContext.Current.CancellationToken);
        ControlResponse reply = await client.SendAsync("screenshot", new System.Text.Json.Nodes.JsonObject { ["path"] = path }, TestContext.Current.CancellationToken);

        Assert.True(reply.Ok, reply.Json);
        Assert.Equal("png", reply.Result.GetProperty("format").GetString());
        Assert.Equal(3, reply.Result.GetProperty("width").GetInt32());
        Assert.Equal(2, reply.Result.GetProperty("height").GetInt32());
        Assert.Equal(42UL, reply.Result.GetProperty("frameSequence").GetUInt64());
        (int width, int height, byte[] rgb) = PngTestDecoder.Decode(await File.ReadAllBytesAsync(path, TestContext.Current.CancellationToken));
        Assert.Equal((3, 2), (width, height));
        Assert.Equal(
            new byte[] { 0xFF, 0x00, 0x00, 0x00, 0xFF, 0x00, 0x00, 0x00, 0xFF, 0x12, 0x34, 0x56, 0xFE, 0xDC, 0xBA, 0x80, 0x80, 0x80 },
            rgb);
        Assert.Empty(Directory.GetFiles(_folder, "*.tmp-*"));
    }

    [Fact]
    public async Task WriteSnapshotAsync_before_a_frame_returns_null_and_writes_nothing()
    {
        using var png = new PngSink("png0");
        png.OnModeChanged(new DisplayMode(4, 4, 16, PixelFormat.B8G8R8X8));
        string path = Path.Combine(_folder, "none.png");

        DisplaySnapshotInfo? info = await png.WriteSnapshotAsync(path, TestContext.Current.CancellationToken);

        Assert.Null(info);
        Assert.False(File.Exists(path));
        Assert.Equal("png", png.SnapshotFormat);
    }
}

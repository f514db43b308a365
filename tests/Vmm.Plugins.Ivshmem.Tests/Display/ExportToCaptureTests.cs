using Microsoft.Extensions.Logging.Abstractions;
using Vmm.Contracts.Devices;
using Vmm.Contracts.Display;
using Vmm.Plugins.Ivshmem.Device;
using Vmm.Plugins.Display.Testing;
using Vmm.Plugins.Ivshmem.Display;
using Vmm.Testing.Devices;
using Xunit;

namespace Vmm.Plugins.Ivshmem.Tests.Display;

/// <summary>
/// Both display halves of the plugin over one shared-memory file, as two processes would use it: a
/// <c>kvmfr-export</c> sink publishes what a source sends it (the LGMP host role), and an <c>ivshmem</c> device on
/// the same file reads it back as a display source (the LGMP client role, what a guest's Looking Glass host feeds).
/// </summary>
public sealed class ExportToCaptureTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void FramesDamageAndCursorCrossTheFileByteForByte()
    {
        string file = _folder.File("kvmfr");
        using IDisplaySink export = CreateExport(file);
        using IvshmemDevice capture = CreateCapture(file);
        var sink = new RecordingSink();
        capture.Connect(sink);

        var mode = new DisplayMode(320, 200, 320 * 4, PixelFormat.B8G8R8X8);
        byte[] picture = Gradient(mode, seed: 1);
        export.OnModeChanged(mode);
        export.OnFrame(new DisplayFrame(mode, picture, [new DamageRect(0, 0, mode.Width, mode.Height)], 1));

        (DisplayMode seenMode, _, _) = sink.WaitForFrame((_, pixels) => pixels.AsSpan().SequenceEqual(picture), Timeout);
        Assert.Equal(new DisplayMode(320, 200, 320 * 4, PixelFormat.B8G8R8A8), seenMode);

        // A damaged rect: the next frame differs only there, and that is what arrives.
        var changed = new DamageRect(40, 30, 64, 20);
        Paint(picture, mode, changed, 0x5A);
        export.OnFrame(new DisplayFrame(mode, picture, [changed], 2));
        (_, _, DamageRect[] damage) = sink.WaitForFrame((_, pixels) => pixels.AsSpan().SequenceEqual(picture), Timeout);
        Assert.Contains(damage, d => d.X <= changed.X && d.Y <= changed.Y && d.X + d.Width >= changed.X + changed.Width && d.Y + d.Height >= changed.Y + changed.Height);

        // The cursor travels on its own queue.
        byte[] arrow = new byte[16 * 16 * 4];
        arrow.AsSpan().Fill(0xC0);
        export.OnCursorShape(new CursorShape(16, 16, 3, 4, arrow));
        export.OnCursorPosition(new CursorPosition(100, 50, true));
        WaitFor(() => sink.Shapes.Any(s => s.Width == 16 && s.HotX == 3 && s.HotY == 4 && s.Pixels.Span.SequenceEqual(arrow)), "the cursor shape");
        WaitFor(() => sink.Positions.Any(p => p == new CursorPosition(100, 50, true)), "the cursor position");
    }

    [Fact]
    public void ASinkConnectedLaterGetsTheModeAndTheLastPictureAtOnce()
    {
        string file = _folder.File("kvmfr");
        using IDisplaySink export = CreateExport(file);
        using IvshmemDevice capture = CreateCapture(file);
        var first = new RecordingSink("first");
        capture.Connect(first);
        var mode = new DisplayMode(64, 48, 64 * 4, PixelFormat.B8G8R8A8);
        byte[] picture = Gradient(mode, seed: 7);
        export.OnModeChanged(mode);
        export.OnFrame(new DisplayFrame(mode, picture, [new DamageRect(0, 0, 64, 48)], 1));
        first.WaitForFrame((_, pixels) => pixels.AsSpan().SequenceEqual(picture), Timeout);
        capture.Disconnect();

        var second = new RecordingSink("second");
        capture.Connect(second);

        Assert.Equal([capture.CurrentMode!.Value], second.Modes);
        second.WaitForFrame((_, pixels) => pixels.AsSpan().SequenceEqual(picture), TimeSpan.Zero);
    }

    [Fact]
    public void FormatsThatAreNotBgraOrRgbaAreConvertedOnExport()
    {
        string file = _folder.File("kvmfr");
        using IDisplaySink export = CreateExport(file);
        using IvshmemDevice capture = CreateCapture(file);
        var sink = new RecordingSink();
        capture.Connect(sink);
        var mode = new DisplayMode(8, 2, 8 * 4, PixelFormat.X8R8G8B8);
        byte[] xrgb = new byte[8 * 2 * 4];
        for (int i = 0; i < xrgb.Length; i += 4)
        {
            (xrgb[i], xrgb[i + 1], xrgb[i + 2], xrgb[i + 3]) = ((byte)0, (byte)0x11, (byte)0x22, (byte)0x33); // X, R, G, B
        }

        export.OnModeChanged(mode);
        export.OnFrame(new DisplayFrame(mode, xrgb, [new DamageRect(0, 0, 8, 2)], 1));

        (DisplayMode seen, byte[] bgra, _) = sink.WaitForFrame((m, _) => m.Width == 8, Timeout);
        Assert.Equal(PixelFormat.B8G8R8A8, seen.Format);
        Assert.Equal<byte>([0x33, 0x22, 0x11, 0xFF], bgra.AsSpan(0, 4).ToArray());
    }

    [Theory]
    [InlineData(PixelFormat.B8G8R8X8)]
    [InlineData(PixelFormat.X8R8G8B8)]
    public void SegmentedFramesGoFromTheirSegmentsByteForByte(PixelFormat format)
    {
        string file = _folder.File("kvmfr");
        using IDisplaySink export = CreateExport(file);
        using IvshmemDevice capture = CreateCapture(file);
        var sink = new RecordingSink();
        capture.Connect(sink);
        Assert.True(export is IDisplaySegmentedFrameSink { AcceptsSegmentedFrames: true });

        // Rows wider than the picture, segments of 61 bytes: every row and many pixels cross a cut.
        var mode = new DisplayMode(100, 40, 112 * 4, format);
        byte[] picture = Gradient(mode, seed: 3);
        export.OnModeChanged(mode);
        export.OnFrame(new DisplayFrame(mode, SurfacePieces.Every(picture, 61), [new DamageRect(0, 0, mode.Width, mode.Height)], 1));
        sink.WaitForFrame((_, pixels) => pixels.AsSpan().SequenceEqual(Bgra(picture, mode)), Timeout);

        var changed = new DamageRect(37, 11, 50, 29);
        Paint(picture, mode, changed, 0x6B);
        export.OnFrame(new DisplayFrame(mode, SurfacePieces.Every(picture, 61), [changed], 2));
        sink.WaitForFrame((_, pixels) => pixels.AsSpan().SequenceEqual(Bgra(picture, mode)), Timeout);
    }

    [Theory]
    [InlineData("""{ "size": 3000000 }""", "$.devices[0].options.size", "power of two")]
    [InlineData("""{ "size": 4096 }""", "$.devices[0].options.size", "at least")]
    [InlineData("""{ "subscriberTimeoutMs": 0 }""", "$.devices[0].options.subscriberTimeoutMs", "from 1 to")]
    [InlineData("""{ "path": "no-such-folder/kvmfr" }""", "$.devices[0].options.path", "does not exist")]
    public void BadExportOptionsAreOneLineWithTheirJsonPath(string json, string path, string message)
    {
        var options = System.Text.Json.JsonSerializer.Deserialize<KvmfrExportOptions>(json, new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web))!;
        var context = new DeviceOptionsValidationContext("$.devices[0].options", _folder.Path);

        ((IDeviceFactory)new KvmfrExportSinkFactory()).Validate(options, context);

        (string errorPath, string errorMessage) = Assert.Single(context.Errors);
        Assert.Equal(path, errorPath);
        Assert.Contains(message, errorMessage, StringComparison.Ordinal);
    }

    private static byte[] Gradient(DisplayMode mode, int seed)
    {
        byte[] pixels = new byte[mode.Stride * mode.Height];
        for (int y = 0; y < mode.Height; y++)
        {
            for (int x = 0; x < mode.Width; x++)
            {
                int i = (y * mode.Stride) + (x * 4);
                (pixels[i], pixels[i + 1], pixels[i + 2], pixels[i + 3]) = ((byte)(x + seed), (byte)(y * 3), (byte)(x ^ y), 0xFF);
            }
        }

        return pixels;
    }

    /// <summary>The picture as the capture side shows it: packed rows, B, G, R, A (0xFF after a conversion).</summary>
    private static byte[] Bgra(byte[] pixels, DisplayMode mode)
    {
        byte[] packed = new byte[mode.Width * 4 * mode.Height];
        for (int y = 0; y < mode.Height; y++)
        {
            for (int x = 0; x < mode.Width; x++)
            {
                ReadOnlySpan<byte> p = pixels.AsSpan((y * mode.Stride) + (x * 4), 4);
                int i = ((y * mode.Width) + x) * 4;
                (packed[i], packed[i + 1], packed[i + 2], packed[i + 3]) = mode.Format == PixelFormat.X8R8G8B8
                    ? (p[3], p[2], p[1], (byte)0xFF)
                    : (p[0], p[1], p[2], p[3]);
            }
        }

        return packed;
    }

    private static void Paint(byte[] pixels, DisplayMode mode, DamageRect rect, byte value)
    {
        for (int y = rect.Y; y < rect.Y + rect.Height; y++)
        {
            pixels.AsSpan((y * mode.Stride) + (rect.X * 4), rect.Width * 4).Fill(value);
        }
    }

    private static void WaitFor(Func<bool> condition, string what)
    {
        DateTime deadline = DateTime.UtcNow + Timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"No {what} within {Timeout.TotalSeconds} s.");
            }

            Thread.Sleep(5);
        }
    }

    private IDisplaySink CreateExport(string file) => (IDisplaySink)((IDeviceFactory)new KvmfrExportSinkFactory()).Create(
        Context("export"), new KvmfrExportOptions { Path = file, Size = 4L << 20 });

    private IvshmemDevice CreateCapture(string file) => (IvshmemDevice)((IDeviceFactory)new IvshmemDeviceFactory()).Create(
        Context("lg0"), new IvshmemOptions { Path = file, Size = 4L << 20 });

    private DeviceCreateContext Context(string id) => new(id, NullLoggerFactory.Instance, null, EmptyServiceProvider.Instance, _folder.Path);
}

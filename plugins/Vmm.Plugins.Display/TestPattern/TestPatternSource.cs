using Vmm.Contracts.Display;

namespace Vmm.Plugins.Display.TestPattern;

/// <summary>
/// A display source with a fixed picture: on every connect it publishes its mode and one full frame, and nothing
/// after. A second source to switch a display to (and back), and a known picture for checking sinks.
/// </summary>
public sealed class TestPatternSource : IDisplaySource
{
    private static readonly (byte R, byte G, byte B)[] s_bars =
    [
        (255, 255, 255), (255, 255, 0), (0, 255, 255), (0, 255, 0), (255, 0, 255), (255, 0, 0), (0, 0, 255), (0, 0, 0),
    ];

    private readonly byte[] _pixels;
    private readonly DamageRect[] _whole;
    private readonly Lock _lock = new();
    private IDisplaySink? _sink;
    private ulong _sequence;

    /// <summary>Draws the picture once; <paramref name="color"/> is used by <see cref="TestPatternKind.Solid"/>.</summary>
    public TestPatternSource(string id, int width, int height, TestPatternKind pattern, (byte R, byte G, byte B) color)
    {
        ArgumentNullException.ThrowIfNull(id);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        Id = id;
        CurrentMode = new DisplayMode(width, height, width * 4, PixelFormat.B8G8R8X8);
        _whole = [new DamageRect(0, 0, width, height)];
        _pixels = new byte[width * 4 * height];
        Draw(_pixels, width, height, pattern, color);
    }

    /// <inheritdoc />
    public string Id { get; }

    /// <inheritdoc />
    public DisplayMode? CurrentMode { get; }

    /// <inheritdoc />
    public void Connect(IDisplaySink sink)
    {
        ArgumentNullException.ThrowIfNull(sink);
        lock (_lock)
        {
            _sink = sink;
            DisplayMode mode = CurrentMode!.Value;
            sink.OnModeChanged(mode);
            sink.OnFrame(new DisplayFrame(mode, _pixels, _whole, ++_sequence));
        }
    }

    /// <inheritdoc />
    public void Disconnect()
    {
        lock (_lock)
        {
            _sink = null;
        }
    }

    /// <inheritdoc />
    public void Dispose() => Disconnect();

    private static void Draw(Span<byte> pixels, int width, int height, TestPatternKind pattern, (byte R, byte G, byte B) color)
    {
        for (int x = 0; x < width; x++)
        {
            (byte r, byte g, byte b) = pattern == TestPatternKind.Solid ? color : s_bars[(int)((long)x * s_bars.Length / width)];
            Span<byte> pixel = pixels.Slice(x * 4, 4);
            pixel[0] = b;
            pixel[1] = g;
            pixel[2] = r;
            pixel[3] = 0xFF;
        }

        // Every row is the first one.
        ReadOnlySpan<byte> first = pixels[..(width * 4)];
        for (int y = 1; y < height; y++)
        {
            first.CopyTo(pixels.Slice(y * width * 4, width * 4));
        }
    }
}

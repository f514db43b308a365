using Vmm.Contracts.Devices;
using Vmm.Contracts.Display;

namespace Vmm.Core.Tests.Display;

/// <summary>A source that publishes its mode and a full frame of one colour (the first pixel byte) on every connect.</summary>
internal sealed class ColourSource(string id, byte colour, int width = 2, int height = 2) : IDisplaySource
{
    private readonly DisplayMode _mode = new(width, height, width * 4, PixelFormat.B8G8R8X8);
    private ulong _sequence;

    public string Id => id;

    public DisplayMode? CurrentMode => _mode;

    public void Connect(IDisplaySink sink)
    {
        byte[] pixels = new byte[_mode.Stride * _mode.Height];
        pixels.AsSpan().Fill(colour);
        sink.OnModeChanged(_mode);
        sink.OnFrame(new DisplayFrame(_mode, pixels, [new DamageRect(0, 0, _mode.Width, _mode.Height)], ++_sequence));
    }

    public void Disconnect()
    {
    }

    public void Dispose()
    {
    }
}

/// <summary>A sink that keeps the colour (first byte) of the last frame; snapshot-capable, writing that colour as text.</summary>
internal sealed class ColourSink(string id) : IDisplaySnapshotSink
{
    private DisplaySnapshotInfo? _held;

    public string Id => id;

    public byte? LastColour { get; private set; }

    public int Frames { get; private set; }

    public bool Disposed { get; private set; }

    public string SnapshotFormat => "txt";

    public void OnModeChanged(DisplayMode mode)
    {
    }

    public void OnFrame(DisplayFrame frame)
    {
        LastColour = frame.Pixels[0];
        Frames++;
        _held = new DisplaySnapshotInfo(frame.Mode.Width, frame.Mode.Height, frame.Sequence);
    }

    public void OnCursorShape(CursorShape shape)
    {
    }

    public void OnCursorPosition(CursorPosition position)
    {
    }

    public async ValueTask<DisplaySnapshotInfo?> WriteSnapshotAsync(string path, CancellationToken cancellationToken)
    {
        if (_held is null)
        {
            return null;
        }

        await File.WriteAllTextAsync(path, $"colour {LastColour}", cancellationToken);
        return _held;
    }

    public void Dispose() => Disposed = true;
}

internal sealed class ColourSinkOptions
{
    public int Port { get; set; }
}

/// <summary>Makes <see cref="ColourSink"/>s under any device type name; <c>port</c> above 65535 is refused.</summary>
internal sealed class ColourSinkFactory(string deviceType) : DeviceFactory<ColourSinkOptions>
{
    public List<ColourSink> Made { get; } = [];

    public override string DeviceType => deviceType;

    public override string Description => "A recording display sink.";

    protected override void Validate(ColourSinkOptions options, DeviceOptionsValidationContext context)
    {
        if (options.Port > 65535)
        {
            context.AddError("port", $"must be 0 to 65535, not {options.Port}.");
        }
    }

    protected override IDevice Create(DeviceCreateContext context, ColourSinkOptions options)
    {
        var sink = new ColourSink(context.Id);
        Made.Add(sink);
        return sink;
    }
}

/// <summary>Makes a device that is not a display sink.</summary>
internal sealed class NotASinkFactory : DeviceFactory<ColourSinkOptions>
{
    public override string DeviceType => "not-a-sink";

    public override string Description => "A device that is no sink.";

    protected override IDevice Create(DeviceCreateContext context, ColourSinkOptions options) => new ColourSource(context.Id, 0);
}

using Vmm.Contracts.Display;

namespace Vmm.Core.Tests.Control;

/// <summary>A snapshot-capable sink that writes a fixed text "picture" once it has a frame.</summary>
internal sealed class FakeSnapshotSink(string id) : IDisplaySnapshotSink
{
    public string Id => id;

    public string SnapshotFormat => "txt";

    /// <summary>The size and sequence of the "frame" held, or null before one arrived.</summary>
    public DisplaySnapshotInfo? Held { get; set; }

    public List<string> WrittenPaths { get; } = [];

    public async ValueTask<DisplaySnapshotInfo?> WriteSnapshotAsync(string path, CancellationToken cancellationToken)
    {
        if (Held is not { } held)
        {
            return null;
        }

        await File.WriteAllTextAsync(path, $"{id} {held.Width}x{held.Height}", cancellationToken);
        WrittenPaths.Add(path);
        return held;
    }

    public void OnModeChanged(DisplayMode mode)
    {
    }

    public void OnFrame(DisplayFrame frame)
    {
    }

    public void OnCursorShape(CursorShape shape)
    {
    }

    public void OnCursorPosition(CursorPosition position)
    {
    }

    public void Dispose()
    {
    }
}

namespace Vmm.Contracts.Display;

/// <summary>
/// A display sink that can write the picture it holds to a file on request (contract 1.1). The host's
/// <c>screenshot</c> control command and <c>vmm ctl screenshot</c> reach sinks through this interface, so the
/// encoder stays in the plugin.
/// </summary>
public interface IDisplaySnapshotSink : IDisplaySink
{
    /// <summary>The file format written, as a lower-case extension without the dot (<c>png</c>).</summary>
    string SnapshotFormat { get; }

    /// <summary>
    /// Writes the current picture to <paramref name="path"/> and returns its size, or null when no frame has
    /// arrived yet (nothing is written then).
    /// </summary>
    ValueTask<DisplaySnapshotInfo?> WriteSnapshotAsync(string path, CancellationToken cancellationToken);
}

/// <summary>What a snapshot held.</summary>
/// <param name="Width">Width in pixels.</param>
/// <param name="Height">Height in pixels.</param>
/// <param name="FrameSequence">The sequence number of the last frame in the picture.</param>
public readonly record struct DisplaySnapshotInfo(int Width, int Height, ulong FrameSequence);

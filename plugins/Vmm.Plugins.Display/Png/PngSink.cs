using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Vmm.Contracts.Display;
using Vmm.Plugins.Display.Framebuffer;

namespace Vmm.Plugins.Display.Png;

/// <summary>
/// A display sink that keeps the current picture (copying only damage) and writes it as a PNG on request
/// (<see cref="WriteSnapshotAsync"/>, which the host's <c>screenshot</c> control command calls) and, optionally,
/// when disposed.
/// </summary>
public sealed class PngSink : IDisplaySnapshotSink, IDisplaySegmentedFrameSink
{
    private readonly SinkFramebuffer _framebuffer = new();
    private readonly Lock _lock = new();
    private readonly string? _pathOnExit;
    private readonly ILogger _logger;
    private ulong _lastSequence;
    private bool _disposed;

    /// <summary>Creates a sink; <paramref name="pathOnExit"/> is written on dispose when given.</summary>
    public PngSink(string id, string? pathOnExit = null, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(id);
        Id = id;
        _pathOnExit = pathOnExit;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("Vmm.Display");
    }

    /// <inheritdoc />
    public string Id { get; }

    /// <summary>How many frames arrived.</summary>
    public long FrameCount { get; private set; }

    /// <inheritdoc />
    public string SnapshotFormat => "png";

    /// <inheritdoc />
    /// <remarks>Always: frames are read through <see cref="DisplayFrame.CopyRect"/>.</remarks>
    public bool AcceptsSegmentedFrames => true;

    /// <inheritdoc />
    public void OnModeChanged(DisplayMode mode)
    {
        lock (_lock)
        {
            _framebuffer.Resize(mode);
        }
    }

    /// <inheritdoc />
    public void OnFrame(DisplayFrame frame)
    {
        lock (_lock)
        {
            if (_framebuffer.CopyDamage(frame))
            {
                FrameCount++;
                _lastSequence = frame.Sequence;
            }
        }
    }

    /// <inheritdoc />
    public void OnCursorShape(CursorShape shape)
    {
    }

    /// <inheritdoc />
    public void OnCursorPosition(CursorPosition position)
    {
    }

    /// <summary>Encodes the current picture as PNG bytes; null before the first frame.</summary>
    public byte[]? EncodeSnapshot() => Encode()?.Png;

    /// <summary>Writes the current picture to <paramref name="path"/> as PNG.</summary>
    /// <exception cref="InvalidOperationException">No frame arrived yet.</exception>
    public async Task SnapshotAsync(string path, CancellationToken cancellationToken = default)
    {
        _ = await WriteSnapshotAsync(path, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"Display sink '{Id}' has no frame yet.");
    }

    /// <inheritdoc />
    /// <remarks>The file is written whole to a temporary name beside <paramref name="path"/> and renamed over it.</remarks>
    public async ValueTask<DisplaySnapshotInfo?> WriteSnapshotAsync(string path, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        (byte[] Png, DisplaySnapshotInfo Info)? snapshot = await Task.Run(Encode, cancellationToken).ConfigureAwait(false);
        if (snapshot is not { } encoded)
        {
            return null;
        }

        // A reader polling for the file never sees half of it; a name of its own per request, so two screenshots to
        // one path never write (or rename) each other's file.
        string temporary = path + ".tmp-" + Guid.NewGuid().ToString("N");
        try
        {
            await File.WriteAllBytesAsync(temporary, encoded.Png, cancellationToken).ConfigureAwait(false);
            File.Move(temporary, path, overwrite: true);
        }
        catch
        {
            if (File.Exists(temporary))
            {
                File.Delete(temporary);
            }

            throw;
        }

        DisplayLog.SnapshotWritten(_logger, Id, path);
        return encoded.Info;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (_pathOnExit is null)
        {
            return;
        }

        try
        {
            byte[]? png = EncodeSnapshot();
            if (png is not null)
            {
                File.WriteAllBytes(_pathOnExit, png);
                DisplayLog.SnapshotWritten(_logger, Id, _pathOnExit);
            }
        }
        catch (IOException exception)
        {
            DisplayLog.SnapshotFailed(_logger, Id, _pathOnExit, exception);
        }
        catch (UnauthorizedAccessException exception)
        {
            DisplayLog.SnapshotFailed(_logger, Id, _pathOnExit, exception);
        }
    }

    private (byte[] Png, DisplaySnapshotInfo Info)? Encode()
    {
        byte[] pixels;
        int width, height;
        ulong sequence;
        lock (_lock)
        {
            if (!_framebuffer.HasFrame)
            {
                return null;
            }

            // Copy under the lock, encode outside it, so frames keep flowing.
            pixels = _framebuffer.Pixels.ToArray();
            width = _framebuffer.Width;
            height = _framebuffer.Height;
            sequence = _lastSequence;
        }

        return (PngEncoder.Encode(pixels, width, height, width * 4), new DisplaySnapshotInfo(width, height, sequence));
    }
}

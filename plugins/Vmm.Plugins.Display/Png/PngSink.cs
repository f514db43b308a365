using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Vmm.Contracts.Display;
using Vmm.Plugins.Display.Framebuffer;

namespace Vmm.Plugins.Display.Png;

/// <summary>
/// A display sink that keeps the current picture (copying only damage) and writes it as a PNG on request
/// (<see cref="SnapshotAsync"/>) and, optionally, when disposed.
/// </summary>
public sealed class PngSink : IDisplaySink
{
    private readonly SinkFramebuffer _framebuffer = new();
    private readonly Lock _lock = new();
    private readonly string? _pathOnExit;
    private readonly ILogger _logger;
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
    public byte[]? EncodeSnapshot()
    {
        byte[] pixels;
        int width, height;
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
        }

        return PngEncoder.Encode(pixels, width, height, width * 4);
    }

    /// <summary>Writes the current picture to <paramref name="path"/> as PNG.</summary>
    /// <exception cref="InvalidOperationException">No frame arrived yet.</exception>
    public async Task SnapshotAsync(string path, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(path);
        byte[] png = await Task.Run(EncodeSnapshot, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"Display sink '{Id}' has no frame yet.");
        await File.WriteAllBytesAsync(path, png, cancellationToken).ConfigureAwait(false);
        DisplayLog.SnapshotWritten(_logger, Id, path);
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
}

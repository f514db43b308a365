using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Vmm.Contracts.Display;
using Vmm.Contracts.Input;
using Vmm.Plugins.Display.Framebuffer;

namespace Vmm.Plugins.Display.Vnc;

/// <summary>
/// A display sink that serves the display over RFB (VNC). It keeps its own framebuffer (copying only damage) and
/// tells each client's connection what changed; keys and pointer go to the input router (keyboard, tablet).
/// </summary>
public sealed class VncSink : IDisplaySegmentedFrameSink
{
    private readonly SinkFramebuffer _framebuffer = new();
    private readonly Lock _framebufferLock = new();
    private readonly List<VncConnection> _connections = [];
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly ILogger _logger;
    private readonly Task _acceptLoop;
    private CursorShape? _cursorShape;
    private bool _cursorVisible;
    private bool _disposed;

    /// <summary>Starts listening on <paramref name="endPoint"/> (port 0 picks one; see <see cref="LocalEndPoint"/>).</summary>
    public VncSink(string id, IPEndPoint endPoint, string desktopName = "Vmm", IInputRouter? inputRouter = null, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(id);
        ArgumentNullException.ThrowIfNull(endPoint);
        Id = id;
        DesktopName = desktopName;
        InputRouter = inputRouter;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("Vmm.Display");
        _listener = new TcpListener(endPoint);
        _listener.Start();
        LocalEndPoint = (IPEndPoint)_listener.LocalEndpoint;
        DisplayLog.VncListening(_logger, id, LocalEndPoint.ToString());
        _acceptLoop = Task.Run(AcceptLoopAsync);
    }

    /// <inheritdoc />
    public string Id { get; }

    /// <summary>Where the server listens.</summary>
    public IPEndPoint LocalEndPoint { get; }

    /// <summary>How many clients are connected.</summary>
    public int ClientCount
    {
        get
        {
            lock (_framebufferLock)
            {
                return _connections.Count;
            }
        }
    }

    internal string DesktopName { get; }

    internal IInputRouter? InputRouter { get; }

    internal Lock FramebufferLock => _framebufferLock;

    internal SinkFramebuffer Framebuffer => _framebuffer;

    /// <inheritdoc />
    /// <remarks>Always: frames are read through <see cref="DisplayFrame.CopyRect"/> and <see cref="DisplayFrame.ReadRow"/>.</remarks>
    public bool AcceptsSegmentedFrames => true;

    /// <inheritdoc />
    public void OnModeChanged(DisplayMode mode)
    {
        lock (_framebufferLock)
        {
            _framebuffer.Resize(mode);
            foreach (VncConnection connection in _connections)
            {
                connection.OnModeChanged();
            }
        }
    }

    /// <inheritdoc />
    public void OnFrame(DisplayFrame frame)
    {
        lock (_framebufferLock)
        {
            // A scrolled console is the common big update: found before the copy (it compares against the old
            // picture), it goes to clients as CopyRect plus the newly exposed strip.
            Span<int> scrolls = stackalloc int[Math.Min(frame.Damage.Length, 8)];
            for (int i = 0; i < scrolls.Length; i++)
            {
                scrolls[i] = _connections.Count == 0 ? 0 : ScrollDetector.FindScrollUp(_framebuffer, frame, _framebuffer.Clip(frame.Damage[i]));
            }

            if (!_framebuffer.CopyDamage(frame))
            {
                return;
            }

            foreach (VncConnection connection in _connections)
            {
                for (int i = 0; i < frame.Damage.Length; i++)
                {
                    DamageRect rect = _framebuffer.Clip(frame.Damage[i]);
                    if (i < scrolls.Length && scrolls[i] > 0)
                    {
                        connection.OnScroll(rect, scrolls[i]);
                    }
                    else
                    {
                        connection.OnDamage(rect);
                    }
                }
            }
        }
    }

    /// <inheritdoc />
    public void OnCursorShape(CursorShape shape)
    {
        lock (_framebufferLock)
        {
            _cursorShape = shape;
            _cursorVisible = true;
            foreach (VncConnection connection in _connections)
            {
                connection.OnCursorChanged();
            }
        }
    }

    /// <inheritdoc />
    public void OnCursorPosition(CursorPosition position)
    {
        lock (_framebufferLock)
        {
            // RFB clients draw the cursor where their own pointer is; only visibility changes matter here.
            if (_cursorVisible == position.Visible)
            {
                return;
            }

            _cursorVisible = position.Visible;
            foreach (VncConnection connection in _connections)
            {
                connection.OnCursorChanged();
            }
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _stop.Cancel();
        _listener.Stop();
        lock (_framebufferLock)
        {
            foreach (VncConnection connection in _connections)
            {
                connection.Dispose();
            }

            _connections.Clear();
        }

        try
        {
            _acceptLoop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
            // The loop ends with the listener.
        }

        _stop.Dispose();
    }

    internal (int Width, int Height) GetSize()
    {
        lock (_framebufferLock)
        {
            return _framebuffer.Width > 0 ? (_framebuffer.Width, _framebuffer.Height) : (640, 480);
        }
    }

    /// <summary>The cursor; called under the framebuffer lock by a connection.</summary>
    internal (CursorShape? Shape, bool Visible) GetCursor() => (_cursorShape, _cursorVisible);

    private async Task AcceptLoopAsync()
    {
        CancellationToken token = _stop.Token;
        while (!token.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptSocketAsync(token).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is SocketException or OperationCanceledException or ObjectDisposedException)
            {
                return;
            }

            var connection = new VncConnection(this, socket, _logger);
            lock (_framebufferLock)
            {
                _connections.Add(connection);
            }

            _ = Task.Run(async () =>
            {
                try
                {
                    await connection.RunAsync(token).ConfigureAwait(false);
                }
                finally
                {
                    lock (_framebufferLock)
                    {
                        _connections.Remove(connection);
                    }

                    connection.Dispose();
                }
            }, CancellationToken.None);
        }
    }
}

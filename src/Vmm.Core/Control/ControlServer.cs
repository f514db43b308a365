using System.Collections.Concurrent;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Vmm.Contracts;

namespace Vmm.Core.Control;

/// <summary>
/// The control API of one running VM: a Unix-domain socket where each client sends one JSON request per line and
/// gets one JSON reply per line (see <see cref="ControlProtocol"/>). Bad requests get error replies; the
/// connection and the VM go on. Several clients may be connected at once. Disposing removes the socket file.
/// </summary>
public sealed class ControlServer : IAsyncDisposable
{
    // A reply already being written (the answer to "stop", which ends the run and so stops this server) gets this
    // long to reach its client; a client that stopped reading cannot hold the VMM's exit longer.
    private static readonly TimeSpan s_replyGrace = TimeSpan.FromSeconds(2);

    private readonly ControlCommandRegistry _commands;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly CancellationTokenSource _closing = new();
    private readonly ConcurrentDictionary<long, Task> _connections = new();
    private Socket? _listener;
    private Task _acceptLoop = Task.CompletedTask;
    private long _nextConnectionId;
    private Task? _stop;

    /// <summary>Creates a server for <paramref name="socketPath"/>; <see cref="Start"/> binds it.</summary>
    public ControlServer(string socketPath, ControlCommandRegistry commands, ILoggerFactory? loggerFactory = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(socketPath);
        ArgumentNullException.ThrowIfNull(commands);
        SocketPath = Path.GetFullPath(socketPath);
        _commands = commands;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("Vmm.Control");
    }

    /// <summary>The socket's absolute path.</summary>
    public string SocketPath { get; }

    /// <summary>The commands answered; add more at any time.</summary>
    public ControlCommandRegistry Commands => _commands;

    /// <summary>
    /// Creates the socket (and its folder) and starts accepting clients. A stale socket file left by a crashed VM
    /// is replaced; a socket another process still listens on is an error.
    /// </summary>
    public void Start()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _stop) is not null, this);
        if (_listener is not null)
        {
            throw new InvalidOperationException("The control server is already started.");
        }

        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(SocketPath)!);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new VmmException($"Cannot create the folder of control socket '{SocketPath}': {ex.Message}", ex);
        }

        RemoveStaleSocket();
        Socket listener = new(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            listener.Bind(new UnixDomainSocketEndPoint(SocketPath));
            listener.Listen(16);
        }
        catch (SocketException ex)
        {
            listener.Dispose();
            throw new VmmException($"Cannot listen on control socket '{SocketPath}': {ex.Message}", ex);
        }

        _listener = listener;
        ControlLog.Listening(_logger, SocketPath);
        _acceptLoop = AcceptLoopAsync(listener, _stopping.Token);
    }

    /// <summary>
    /// Stops accepting and reading requests, lets replies in flight reach their clients (for a short grace period),
    /// ends every connection and removes the socket file. Every caller waits for the one stop.
    /// </summary>
    public Task StopAsync()
    {
        TaskCompletionSource stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
        if (Interlocked.CompareExchange(ref _stop, stopped.Task, null) is { } already)
        {
            return already;
        }

        _ = StopOnceAsync(stopped);
        return stopped.Task;
    }

    private async Task StopOnceAsync(TaskCompletionSource stopped)
    {
        Exception? failure = null;
        try
        {
            await _stopping.CancelAsync().ConfigureAwait(false);
            _listener?.Dispose();
            await _acceptLoop.ConfigureAwait(false);
            _closing.CancelAfter(s_replyGrace);
            await Task.WhenAll(_connections.Values).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Handed to every caller of StopAsync, after the socket file is gone all the same.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            failure = exception;
        }

        if (_listener is not null)
        {
            File.Delete(SocketPath);
            ControlLog.Stopped(_logger, SocketPath);
        }

        _closing.Dispose();
        _stopping.Dispose();
        if (failure is null)
        {
            stopped.SetResult();
        }
        else
        {
            stopped.SetException(failure);
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync() => await StopAsync().ConfigureAwait(false);

    private async Task AcceptLoopAsync(Socket listener, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.AcceptAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException && cancellationToken.IsCancellationRequested)
            {
                return;
            }

            long id = Interlocked.Increment(ref _nextConnectionId);
            ControlConnection connection = new(id, client, _commands, _logger);
            _connections[id] = RunConnectionAsync(id, connection, cancellationToken, _closing.Token);
        }
    }

    private async Task RunConnectionAsync(long id, ControlConnection connection, CancellationToken stopping, CancellationToken closing)
    {
        await Task.Yield();
        try
        {
            await connection.RunAsync(stopping, closing).ConfigureAwait(false);
        }
        finally
        {
            _connections.TryRemove(id, out _);
        }
    }

    private void RemoveStaleSocket()
    {
        if (!File.Exists(SocketPath))
        {
            return;
        }

        using Socket probe = new(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(SocketPath));
        }
        catch (SocketException)
        {
            File.Delete(SocketPath);
            ControlLog.RemovedStaleSocket(_logger, SocketPath);
            return;
        }

        throw new VmmException($"Control socket '{SocketPath}' is in use by another process.");
    }
}

using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Vmm.Contracts.Virtio;
using Vmm.Core.Virtio.Execution;
using Vmm.VhostUser.Backend;
using Vmm.VhostUser.Protocol;

namespace Vmm.VhostUser;

/// <summary>
/// Serves one virtio device as a vhost-user back-end on a Unix socket: QEMU (<c>-chardev socket,path=...</c>),
/// crosvm or cloud-hypervisor connect as the front-end. One front-end at a time; when it disconnects the device
/// is reset, every descriptor and mapping it handed over is released, and the next one may connect.
/// </summary>
/// <remarks>
/// Threads: the device runs on its own <see cref="VirtioDeviceWorker"/>; each connection is served by one thread
/// that waits on the socket and on the rings' kick eventfds together (poll). Call eventfds are the queues'
/// interrupt lines.
/// </remarks>
public sealed class VhostUserServer : IAsyncDisposable
{
    private readonly IVirtioDevice _device;
    private readonly ILogger _logger;
    private readonly VirtioDeviceWorker _worker;
    private readonly Lock _sync = new();
    private Socket? _listener;
    private VhostUserChannel? _current;
    private int _connections;
    private bool _disposed;

    /// <summary>Creates a server for <paramref name="device"/> at <paramref name="socketPath"/>; nothing listens until <see cref="RunAsync"/>.</summary>
    /// <param name="socketPath">The Unix socket path.</param>
    /// <param name="device">The device to serve.</param>
    /// <param name="loggerFactory">Where logs go.</param>
    /// <param name="limits">What the device may take before its worker fails it (<see cref="DeviceLimits.Default"/> when null).</param>
    public VhostUserServer(string socketPath, IVirtioDevice device, ILoggerFactory? loggerFactory = null, DeviceLimits? limits = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(socketPath);
        ArgumentNullException.ThrowIfNull(device);
        SocketPath = socketPath;
        _device = device;
        loggerFactory ??= NullLoggerFactory.Instance;
        _logger = loggerFactory.CreateLogger<VhostUserServer>();
        _worker = new VirtioDeviceWorker(device, loggerFactory, limits ?? DeviceLimits.Default);
        _worker.Failed += exception => VhostUserLog.DeviceFailed(_logger, exception, _device.Id);
    }

    /// <summary>The Unix socket path.</summary>
    public string SocketPath { get; }

    /// <summary>How many front-end connections have ended so far (tests wait on it).</summary>
    public int CompletedConnections => Volatile.Read(ref _connections);

    /// <summary>Whether the device failed and waits for the front-end to reset it.</summary>
    public bool IsDeviceFailed => _worker.IsFailed;

    /// <summary>Why the device failed (what threw, or which call hung), or null while it has not.</summary>
    public string? DeviceFailureReason => _worker.FailureReason;

    /// <summary>
    /// Binds the socket (synchronously, before the returned task first yields, so a front-end may connect as soon
    /// as this returns), then serves front-ends one after another until <paramref name="cancellationToken"/> fires.
    /// The socket file is removed on the way out.
    /// </summary>
    public Task RunAsync(CancellationToken cancellationToken)
    {
        Socket listener = Bind();
        return ServeAsync(listener, cancellationToken);
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync()
    {
        lock (_sync)
        {
            if (_disposed)
            {
                return ValueTask.CompletedTask;
            }

            _disposed = true;
            _listener?.Dispose();
            _current?.Shutdown();
        }

        _worker.Dispose();
        return ValueTask.CompletedTask;
    }

    private Socket Bind()
    {
        lock (_sync)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_listener is not null)
            {
                throw new InvalidOperationException("The server is already running.");
            }

            if (File.Exists(SocketPath) && (File.GetAttributes(SocketPath) & FileAttributes.Directory) == 0)
            {
                // A socket left by an earlier run; binding fails while the file exists.
                File.Delete(SocketPath);
            }

            var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                listener.Bind(new UnixDomainSocketEndPoint(SocketPath));
                listener.Listen(1);
            }
            catch
            {
                listener.Dispose();
                throw;
            }

            _listener = listener;
            VhostUserLog.Listening(_logger, _device.Id, SocketPath);
            return listener;
        }
    }

    private async Task ServeAsync(Socket listener, CancellationToken cancellationToken)
    {
        using CancellationTokenRegistration registration = cancellationToken.Register(Stop);
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                Socket connection;
                try
                {
                    connection = await listener.AcceptAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
                catch (ObjectDisposedException)
                {
                    break;
                }

                connection.Blocking = true;
                await Task.Factory.StartNew(() => Serve(connection), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).ConfigureAwait(false);
            }
        }
        finally
        {
            listener.Dispose();
            TryDeleteSocketFile();
        }
    }

    private void Serve(Socket connection)
    {
        var channel = new VhostUserChannel(connection);
        lock (_sync)
        {
            if (_disposed)
            {
                channel.Dispose();
                return;
            }

            _current = channel;
        }

        VhostUserLog.Connected(_logger, _device.Id);
        try
        {
            using var session = new VhostUserSession(channel, _device, _worker, _logger);
            session.Run();
        }
#pragma warning disable CA1031 // Whatever one front-end does, the server must go on serving the next.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            VhostUserLog.SessionFailed(_logger, exception, _device.Id);
        }
        finally
        {
            lock (_sync)
            {
                _current = null;
            }

            channel.Dispose();
            Interlocked.Increment(ref _connections);
            VhostUserLog.Disconnected(_logger, _device.Id);
        }
    }

    private void Stop()
    {
        lock (_sync)
        {
            _listener?.Dispose();
            _current?.Shutdown();
        }
    }

    private void TryDeleteSocketFile()
    {
        try
        {
            File.Delete(SocketPath);
        }
        catch (IOException)
        {
            // Best effort: a stale socket file is removed by the next Bind.
        }
    }
}

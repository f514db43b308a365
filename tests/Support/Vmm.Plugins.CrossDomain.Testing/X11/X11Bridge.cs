using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Vmm.Plugins.CrossDomain.Testing.Native;

namespace Vmm.Plugins.CrossDomain.Testing.X11;

/// <summary>
/// The guest side of X11 forwarding, as muvm's <c>muvm-x11bridge</c> does it: listens on a guest X11 socket and,
/// for each X client that connects, opens a cross-domain context on <see cref="CrossDomainGuestGpu"/> (capset 5, two
/// rings, INIT with the X11 channel) and forwards bytes both ways. MIT-SHM segments (ShmAttach's SysV ids,
/// ShmAttachFd's memfds, ShmCreateSegment's replies) are translated to host blobs the X server can map; see the
/// README for what is copied when. One context per client; clients run at once, each on its own two threads.
/// </summary>
public sealed partial class X11Bridge : IDisposable
{
    private readonly CrossDomainGuestGpu _gpu;
    private readonly GuestSocket _listener;
    private readonly ILogger _logger;
    private readonly Thread _acceptor;
    private readonly ConcurrentDictionary<X11BridgeClient, byte> _clients = new();
    private int _accepted;
    private int _disposed;

    private X11Bridge(CrossDomainGuestGpu gpu, GuestSocket listener, string address, string? display, ILogger? logger)
    {
        _gpu = gpu;
        _listener = listener;
        Address = address;
        Display = display;
        _logger = logger ?? NullLogger.Instance;
        _acceptor = new Thread(AcceptLoop) { IsBackground = true, Name = "x11bridge accept" };
        _acceptor.Start();
    }

    /// <summary>The socket address the bridge listens on: a path, or '@' and an abstract name.</summary>
    public string Address { get; }

    /// <summary>The DISPLAY value that reaches the bridge (":N"), when it listens on a display number.</summary>
    public string? Display { get; }

    /// <summary>Clients accepted so far.</summary>
    public int ClientsAccepted => Volatile.Read(ref _accepted);

    /// <summary>Clients whose context is open now.</summary>
    public int ActiveClients => _clients.Count;

    /// <summary>What went wrong for clients so far (a refused channel, a host error); a dying client is not a fault.</summary>
    public ConcurrentQueue<string> Faults { get; } = new();

    /// <summary>Listens on <paramref name="address"/> (a socket path the caller chooses, or '@' and an abstract name).</summary>
    public static X11Bridge Start(CrossDomainGuestGpu gpu, string address, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(gpu);
        return new X11Bridge(gpu, GuestSocket.Listen(address), address, null, logger);
    }

    /// <summary>
    /// Listens as X display <c>:N</c> for the first free N from <paramref name="first"/> (no socket file, no lock
    /// file, the abstract name free), on the abstract socket <c>@/tmp/.X11-unix/XN</c> that Xlib and xcb try first,
    /// so <c>DISPLAY=:N</c> reaches the bridge without touching /tmp/.X11-unix.
    /// </summary>
    public static X11Bridge StartOnFreeDisplay(CrossDomainGuestGpu gpu, int first = 300, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(gpu);
        for (int display = first; display < first + 500; display++)
        {
            if (File.Exists($"/tmp/.X11-unix/X{display}") || File.Exists($"/tmp/.X{display}-lock"))
            {
                continue;
            }

            string address = $"@/tmp/.X11-unix/X{display}";
            try
            {
                return new X11Bridge(gpu, GuestSocket.Listen(address), address, $":{display}", logger);
            }
            catch (IOException)
            {
                // Taken (EADDRINUSE): the next number.
            }
        }

        throw new IOException($"no free X display number in {first}..{first + 499}");
    }

    /// <summary>Stops accepting, ends every client (their contexts are destroyed) and waits for their threads.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _listener.Shutdown();
        _acceptor.Join();
        _listener.Dispose();
        if (!Address.StartsWith('@'))
        {
            File.Delete(Address);
        }

        foreach (X11BridgeClient client in _clients.Keys)
        {
            client.Dispose();
        }
    }

    private void AcceptLoop()
    {
        while (_listener.Accept() is GuestSocket socket)
        {
            Interlocked.Increment(ref _accepted);
            var client = new X11BridgeClient(_gpu, socket, _logger, Faults, ended => _clients.TryRemove(ended, out _));
            _clients[client] = 0;
            if (!client.Start())
            {
                _clients.TryRemove(client, out _);
                continue;
            }

            LogAccepted(_logger, client.ContextId, Address);
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "x11bridge: a client on {Address} got context {Context}")]
    private static partial void LogAccepted(ILogger logger, uint context, string address);
}

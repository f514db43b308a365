using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;
using Vmm.Plugins.CrossDomain.Testing.Native;

namespace Vmm.Plugins.CrossDomain.Testing.X11;

/// <summary>
/// One X client behind the bridge: its own cross-domain context (as muvm opens one per client), a thread that reads
/// the client and SENDs its requests, and one that takes channel-ring messages and writes them to the client.
/// Whichever side ends first ends the other: a client that goes away destroys the context (which returns the parked
/// POLL), a host hang-up (RECEIVE with no data) shuts the client's socket.
/// </summary>
internal sealed partial class X11BridgeClient : IDisposable
{
    private readonly GuestSocket _client;
    private readonly CrossDomainChannel _channel;
    // How often a thread waiting for a POLL looks whether its client closed, and how long after the close the POLL
    // may take to come back.
    private static readonly TimeSpan s_closeCheck = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan s_closeLimit = TimeSpan.FromSeconds(45);

    private readonly ILogger _logger;
    private readonly Action<X11BridgeClient> _ended;
    private readonly Lock _state = new();
    private readonly Dictionary<uint, ShmShadow> _segments = [];
    private readonly Dictionary<ushort, PendingReply> _replies = [];
    private readonly ConcurrentQueue<string> _faults;
    private Thread? _toHost;
    private Thread? _toClient;
    private int _running = 2;
    private int _closed;
    private byte _shmMajor;

    public X11BridgeClient(CrossDomainGuestGpu gpu, GuestSocket client, ILogger logger, ConcurrentQueue<string> faults, Action<X11BridgeClient> ended)
    {
        _client = client;
        _logger = logger;
        _faults = faults;
        _ended = ended;
        _channel = new CrossDomainChannel(gpu);
    }

    public uint ContextId => _channel.ContextId;

    /// <summary>Opens the context and starts both threads; false (and the client closed) when the host refused.</summary>
    public bool Start()
    {
        try
        {
            _channel.Open(CrossDomainCommands.ChannelX11);
        }
        catch (CrossDomainGuestException exception)
        {
            Fault($"context {_channel.ContextId}: the X11 channel did not open: {exception.Message}");
            _client.Dispose();
            _channel.Dispose();
            return false;
        }

        _toHost = new Thread(ToHostLoop) { IsBackground = true, Name = $"x11bridge c{_channel.ContextId} up" };
        _toClient = new Thread(ToClientLoop) { IsBackground = true, Name = $"x11bridge c{_channel.ContextId} down" };
        _toHost.Start();
        _toClient.Start();
        return true;
    }

    /// <summary>Ends the client: shuts its socket, destroys the context and waits for both threads.</summary>
    public void Dispose()
    {
        _client.Shutdown();
        foreach (Thread? thread in (Thread?[])[_toHost, _toClient])
        {
            if (thread is not null && !thread.Join(s_closeLimit * 2))
            {
                Fault($"context {_channel.ContextId}: {thread.Name} did not end within {s_closeLimit * 2} of the client's close");
            }
        }
    }

    private void ToHostLoop()
    {
        byte[] buffer = new byte[CrossDomainCommands.MaxSendData]; // what one recvmsg reads, one SEND forwards
        var fds = new Queue<SafeFileHandle>();
        try
        {
            while (true)
            {
                int count = _client.Receive(buffer, fds);
                if (count == 0)
                {
                    break;
                }

                FromClient(buffer.AsSpan(0, count), fds);
            }
        }
        catch (Exception exception) when (exception is IOException or CrossDomainGuestException or InvalidDataException)
        {
            if (Volatile.Read(ref _closed) == 0)
            {
                Fault($"context {_channel.ContextId}: client to host: {exception.Message}");
            }
        }
        finally
        {
            while (fds.TryDequeue(out SafeFileHandle? fd))
            {
                fd.Dispose();
            }

            Close();
            Ended();
        }
    }

    private void ToClientLoop()
    {
        try
        {
            while (true)
            {
                if (!WaitForPollOrClose())
                {
                    break;
                }

                byte[]? message = _channel.TryWaitForMessage(TimeSpan.Zero);
                if (message is null)
                {
                    break;
                }

                if (!FromHost(message))
                {
                    break;
                }
            }
        }
        catch (Exception exception) when (exception is IOException or CrossDomainGuestException or InvalidDataException)
        {
            if (Volatile.Read(ref _closed) == 0)
            {
                Fault($"context {_channel.ContextId}: host to client: {exception.Message}");
            }
        }
        finally
        {
            // Wakes the other thread out of recvmsg; it destroys the context.
            _client.Shutdown();
            Ended();
        }
    }

    /// <summary>
    /// Waits for the outstanding POLL; false once the client closed and the POLL did not come back within
    /// <see cref="s_closeLimit"/> (CTX_DESTROY must return it: a fault is recorded, and the thread ends rather than
    /// hang its bridge's disposal).
    /// </summary>
    private bool WaitForPollOrClose()
    {
        long closedAt = 0;
        while (!_channel.PollReturned(s_closeCheck))
        {
            if (Volatile.Read(ref _closed) == 0)
            {
                continue;
            }

            closedAt = closedAt == 0 ? Environment.TickCount64 : closedAt;
            if (Environment.TickCount64 - closedAt > (long)s_closeLimit.TotalMilliseconds)
            {
                Fault($"context {_channel.ContextId}: the parked POLL did not come back within {s_closeLimit} of CTX_DESTROY");
                return false;
            }
        }

        return true;
    }

    /// <summary>Destroys the context once; its parked POLL comes back, which ends the host-to-client thread.</summary>
    private void Close()
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0)
        {
            return;
        }

        _client.Shutdown();
        try
        {
            uint answer = _channel.Destroy();
            if (answer != CrossDomainCommands.OkNoData)
            {
                Fault($"context {_channel.ContextId}: CTX_DESTROY was answered 0x{answer:x4}");
            }
        }
        catch (CrossDomainGuestException exception)
        {
            Fault($"context {_channel.ContextId}: CTX_DESTROY failed: {exception.Message}");
        }
    }

    /// <summary>The last thread out frees the segments and the socket.</summary>
    private void Ended()
    {
        if (Interlocked.Decrement(ref _running) != 0)
        {
            return;
        }

        lock (_state)
        {
            foreach (ShmShadow segment in _segments.Values)
            {
                segment.Dispose();
            }

            _segments.Clear();
            foreach (HostImport import in _imports)
            {
                import.Dispose();
            }

            _imports.Clear();
        }

        _client.Dispose();
        LogEnded(_logger, _channel.ContextId);
        _ended(this);
    }

    private void Fault(string message)
    {
        _faults.Enqueue(message);
        LogFault(_logger, message);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "x11bridge: {Message}")]
    private static partial void LogFault(ILogger logger, string message);

    [LoggerMessage(Level = LogLevel.Debug, Message = "x11bridge: client of context {Context} ended")]
    private static partial void LogEnded(ILogger logger, uint context);

    /// <summary>What a reply to a tracked request needs done before the client sees it.</summary>
    private readonly record struct PendingReply(ReplyKind Kind, uint Segment = 0, long Offset = 0, string? Extension = null);

    private enum ReplyKind
    {
        QueryExtension,
        ShmQueryVersion,
        ShmGetImage,
        ShmCreateSegment,
    }
}

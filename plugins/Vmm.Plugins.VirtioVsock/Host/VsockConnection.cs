using System.Buffers;
using System.Net.Sockets;
using System.Threading.Channels;

namespace Vmm.Plugins.VirtioVsock.Host;

/// <summary>Where a connection is in its life.</summary>
internal enum VsockConnectionState
{
    /// <summary>A host process asked for a guest port: REQUEST sent, waiting for the guest's RESPONSE.</summary>
    Connecting,

    /// <summary>Both sides agreed; data flows.</summary>
    Established,
}

/// <summary>
/// One stream between a guest port and a host Unix socket. The device worker owns the protocol fields (credit,
/// state, shutdown flags); two tasks move bytes: the reader fills <see cref="TakeFromHost"/>'s buffer from the host
/// socket (one buffer at a time, so the guest's credit bounds what is read), the writer sends what the guest wrote.
/// Both wake the worker through the callback given at construction.
/// </summary>
internal sealed class VsockConnection : IDisposable
{
    /// <summary>The receive buffer this side advertises (buf_alloc): how much guest data may wait for the host socket.</summary>
    public const uint BufferAllocation = 256 * 1024;

    private const int ReadChunk = 64 * 1024;

    private readonly Lock _sync = new();
    private readonly Socket _socket;
    private readonly Action _wakeWorker;
    private readonly Channel<(byte[] Buffer, int Length)> _toHost = Channel.CreateUnbounded<(byte[], int)>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private readonly byte[] _fromHost = new byte[ReadChunk];
    private readonly SemaphoreSlim _drained = new(0, 1);
    private readonly CancellationTokenSource _stop = new();

    // Guarded by _sync: shared between the worker and the two tasks.
    private int _fromHostStart;
    private int _fromHostCount;
    private uint _forwarded;
    private bool _hostEnded;
    private string? _hostFailure;
    private bool _started;
    private bool _disposed;

    // Set before the channel completes, read by the writer after it drained the channel.
    private volatile bool _closeAfterFlush;

    public VsockConnection(Socket socket, uint hostPort, uint guestPort, VsockConnectionState state, Action wakeWorker)
    {
        _socket = socket;
        HostPort = hostPort;
        GuestPort = guestPort;
        State = state;
        _wakeWorker = wakeWorker;
    }

    /// <summary>The host-side port of the connection (the guest's destination or source port for the host CID).</summary>
    public uint HostPort { get; }

    /// <summary>The guest's port.</summary>
    public uint GuestPort { get; }

    /// <summary>The host socket, for the handshake line a host-initiated connection gets.</summary>
    public Socket Socket => _socket;

    // The fields below belong to the device worker.

    /// <summary>The connection's state.</summary>
    public VsockConnectionState State { get; set; }

    /// <summary>Bytes the guest sent on this connection (rx_cnt of our receive buffer).</summary>
    public uint ReceivedFromGuest { get; set; }

    /// <summary>The fwd_cnt the guest was last told.</summary>
    public uint ForwardCountSent { get; set; }

    /// <summary>The guest's receive buffer (its buf_alloc).</summary>
    public uint PeerBufferAllocation { get; set; }

    /// <summary>What the guest consumed of it (its fwd_cnt).</summary>
    public uint PeerForwardCount { get; set; }

    /// <summary>Bytes sent to the guest (tx_cnt).</summary>
    public uint SentToGuest { get; set; }

    /// <summary>A CREDIT_REQUEST is out and no update came back yet.</summary>
    public bool CreditRequested { get; set; }

    /// <summary>The guest said it receives no more (SHUTDOWN RCV).</summary>
    public bool GuestStoppedReceiving { get; set; }

    /// <summary>The guest said it sends no more (SHUTDOWN SEND).</summary>
    public bool GuestStoppedSending { get; set; }

    /// <summary>The guest was told the host side sends no more.</summary>
    public bool HostEndSignalled { get; set; }

    /// <summary>What the guest may still send to us before our buffer is full.</summary>
    public uint FreeForGuest => BufferAllocation - (ReceivedFromGuest - Forwarded);

    /// <summary>What we may still send to the guest before its buffer is full.</summary>
    public uint PeerCredit
    {
        get
        {
            uint inFlight = SentToGuest - PeerForwardCount;
            return inFlight >= PeerBufferAllocation ? 0 : PeerBufferAllocation - inFlight;
        }
    }

    /// <summary>Bytes written to the host socket (fwd_cnt).</summary>
    public uint Forwarded
    {
        get
        {
            lock (_sync)
            {
                return _forwarded;
            }
        }
    }

    /// <summary>Bytes read from the host socket and not yet given to the guest.</summary>
    public int PendingFromHost
    {
        get
        {
            lock (_sync)
            {
                return _fromHostCount;
            }
        }
    }

    /// <summary>The host peer stopped sending and every byte it sent was given to the guest.</summary>
    public bool HostEnded
    {
        get
        {
            lock (_sync)
            {
                return _hostEnded && _fromHostCount == 0;
            }
        }
    }

    /// <summary>Why the host socket failed, or null.</summary>
    public string? HostFailure
    {
        get
        {
            lock (_sync)
            {
                return _hostFailure;
            }
        }
    }

    /// <summary>The guest should hear our fwd_cnt: it may be waiting for credit.</summary>
    public bool NeedsCreditUpdate
    {
        get
        {
            uint forwarded = Forwarded;
            uint unsent = forwarded - ForwardCountSent;
            return unsent != 0 && (forwarded == ReceivedFromGuest || unsent >= BufferAllocation / 4);
        }
    }

    /// <summary>Starts moving bytes (once established).</summary>
    public void Start()
    {
        lock (_sync)
        {
            if (_started || _disposed)
            {
                return;
            }

            _started = true;
        }

        _ = Task.Run(ReadLoopAsync);
        _ = Task.Run(WriteLoopAsync);
    }

    /// <summary>Queues guest bytes for the host socket; the caller checked the credit.</summary>
    public void SendToHost(ReadOnlySpan<byte> data)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(data.Length);
        data.CopyTo(buffer);
        if (!_toHost.Writer.TryWrite((buffer, data.Length)))
        {
            ArrayPool<byte>.Shared.Return(buffer);
            return;
        }

        ReceivedFromGuest += (uint)data.Length;
    }

    /// <summary>The guest sends no more: shut the host socket's sending side once everything queued is written.</summary>
    public void EndToHost() => _toHost.Writer.TryComplete();

    /// <summary>Copies up to <paramref name="destination"/>'s length of host bytes; lets the reader go on once all are taken.</summary>
    public int TakeFromHost(Span<byte> destination)
    {
        bool drained;
        int n;
        lock (_sync)
        {
            n = Math.Min(destination.Length, _fromHostCount);
            _fromHost.AsSpan(_fromHostStart, n).CopyTo(destination);
            _fromHostStart += n;
            _fromHostCount -= n;
            drained = n > 0 && _fromHostCount == 0;
        }

        if (drained)
        {
            _drained.Release();
        }

        return n;
    }

    /// <summary>Closes the host socket and stops both tasks; queued guest bytes are dropped.</summary>
    public void Dispose()
    {
        lock (_sync)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
        }

        _toHost.Writer.TryComplete();
        _stop.Cancel();
        _socket.Dispose();
        while (_toHost.Reader.TryRead(out (byte[] Buffer, int Length) item))
        {
            ArrayPool<byte>.Shared.Return(item.Buffer);
        }
    }

    /// <summary>Closes the connection after what the guest queued reached the host socket (a graceful close).</summary>
    public void CloseAfterFlush()
    {
        _closeAfterFlush = true;
        _toHost.Writer.TryComplete();
        lock (_sync)
        {
            if (!_started)
            {
                _started = true;
                _ = Task.Run(WriteLoopAsync);
            }
        }
    }

    private async Task ReadLoopAsync()
    {
        try
        {
            while (true)
            {
                int n = await _socket.ReceiveAsync(_fromHost.AsMemory(), SocketFlags.None, _stop.Token).ConfigureAwait(false);
                lock (_sync)
                {
                    if (n == 0)
                    {
                        _hostEnded = true;
                    }
                    else
                    {
                        _fromHostStart = 0;
                        _fromHostCount = n;
                    }
                }

                _wakeWorker();
                if (n == 0)
                {
                    return;
                }

                await _drained.WaitAsync(_stop.Token).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
        {
        }
        catch (SocketException ex)
        {
            Fail(ex.Message);
        }
    }

    private async Task WriteLoopAsync()
    {
        try
        {
            while (await _toHost.Reader.WaitToReadAsync(_stop.Token).ConfigureAwait(false))
            {
                while (_toHost.Reader.TryRead(out (byte[] Buffer, int Length) item))
                {
                    try
                    {
                        int sent = 0;
                        while (sent < item.Length)
                        {
                            sent += await _socket.SendAsync(item.Buffer.AsMemory(sent, item.Length - sent), SocketFlags.None, _stop.Token).ConfigureAwait(false);
                        }
                    }
                    finally
                    {
                        ArrayPool<byte>.Shared.Return(item.Buffer);
                    }

                    lock (_sync)
                    {
                        _forwarded += (uint)item.Length;
                    }

                    _wakeWorker();
                }
            }

            if (_closeAfterFlush)
            {
                Dispose();
            }
            else
            {
                _socket.Shutdown(SocketShutdown.Send);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
        {
        }
        catch (SocketException ex)
        {
            Fail(ex.Message);
        }
    }

    private void Fail(string reason)
    {
        lock (_sync)
        {
            if (_disposed)
            {
                return;
            }

            _hostFailure ??= reason;
        }

        _wakeWorker();
    }
}

using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;
using Vmm.Contracts.Virtio;
using Vmm.Plugins.VirtioVsock.Host;
using Vmm.Plugins.VirtioVsock.Protocol;

namespace Vmm.Plugins.VirtioVsock;

/// <summary>
/// A virtio socket device (virtio 1.2 §5.10) with Firecracker's hybrid host side: a guest connection to host port P
/// reaches the Unix socket <c>&lt;uds&gt;_P</c>; a host process reaches guest port P by connecting to <c>&lt;uds&gt;</c>
/// and writing <c>CONNECT P\n</c>. Stream sockets only, with credit-based flow control both ways. Queues: rx (0), tx
/// (1), event (2; QEMU's vhost-user-vsock keeps it for itself, so over vhost-user only the first two arrive).
/// </summary>
/// <remarks>
/// Every packet from the guest is checked before it touches a connection: a short chain is dropped, a bad length,
/// an unknown op or type, a wrong CID or a packet for no connection is answered with RST. Nothing the guest sends
/// can fail the device, so a hostile driver costs only its own connections.
/// </remarks>
public sealed class VirtioVsockDevice : IVirtioDevice
{
    /// <summary>The first port handed to host-initiated connections (as Firecracker: far above what guests bind).</summary>
    public const uint FirstHostPort = 1U << 30;

    private const int RxQueue = 0;
    private const int TxQueue = 1;
    private const int EventQueue = 2;
    private static readonly ushort[] s_queueMaxSizes = [256, 256, 64];

    private readonly ulong _guestCid;
    private readonly string _uds;
    private readonly ILogger _logger;
    private readonly HybridListener _listener;
    private readonly ConcurrentQueue<(Socket Socket, uint GuestPort)> _hostConnects = new();

    // Worker-owned from here on.
    private readonly Dictionary<(uint HostPort, uint GuestPort), VsockConnection> _connections = [];
    private readonly Queue<VsockHeader> _control = new();
    private readonly byte[] _packet = new byte[VsockHeader.Size + VsockLayout.MaxPayload];
    private readonly List<VsockConnection> _scan = [];
    private uint _nextHostPort = FirstHostPort;
    private int _roundRobin;
    private bool _transportResetPending;

    private volatile IVirtioDeviceContext? _context;
    private bool _disposed;

    internal VirtioVsockDevice(string id, ulong guestCid, string uds, ILoggerFactory loggerFactory)
    {
        Id = id;
        _guestCid = guestCid;
        _uds = uds;
        _logger = loggerFactory.CreateLogger("Vmm.VirtioVsock");
        _listener = new HybridListener(uds, OnHostConnect, reason => VirtioVsockLog.ClientRejected(_logger, Id, reason));
    }

    /// <inheritdoc />
    public string Id { get; }

    /// <summary>The guest's CID.</summary>
    public ulong GuestCid => _guestCid;

    /// <summary>The device's Unix socket.</summary>
    public string UdsPath => _uds;

    /// <inheritdoc />
    public VirtioDeviceType DeviceType => VirtioDeviceType.Vsock;

    /// <inheritdoc />
    public ulong DeviceFeatures => 0;

    /// <inheritdoc />
    public IReadOnlyList<ushort> QueueMaxSizes => s_queueMaxSizes;

    /// <inheritdoc />
    public IReadOnlyList<SharedMemoryRegionRequest> SharedMemoryRegions => [];

    /// <inheritdoc />
    public int ConfigSize => VsockLayout.ConfigSize;

    /// <summary>Connections open now (for tests).</summary>
    internal int ConnectionCount => _connections.Count;

    /// <inheritdoc />
    public void ReadConfig(int offset, Span<byte> data)
    {
        Span<byte> config = stackalloc byte[VsockLayout.ConfigSize];
        VsockLayout.WriteConfig(config, _guestCid);
        config.Slice(offset, data.Length).CopyTo(data);
    }

    /// <inheritdoc />
    public void WriteConfig(int offset, ReadOnlySpan<byte> data)
    {
        // guest_cid is read-only.
    }

    /// <inheritdoc />
    public void Activate(IVirtioDeviceContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        ObjectDisposedException.ThrowIf(_disposed, this);
        _context = context;
        context.ScheduleQueue(EventQueue);
        context.ScheduleQueue(RxQueue);
    }

    /// <inheritdoc />
    public void ProcessQueue(int queueIndex)
    {
        IVirtioDeviceContext? context = _context;
        if (context is null)
        {
            return;
        }

        if (queueIndex == TxQueue)
        {
            ProcessTx(context);
        }
        else if (queueIndex == EventQueue)
        {
            DeliverTransportReset(context);
            return;
        }

        AcceptHostConnects();
        SweepConnections();
        FillRx(context);
    }

    /// <inheritdoc />
    public void Reset()
    {
        _context = null;
        if (_connections.Count > 0)
        {
            _transportResetPending = true;
        }

        CloseAll("device reset");
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _context = null;
        _listener.Dispose();
        CloseAll("device disposed");
    }

    private void CloseAll(string reason)
    {
        foreach (VsockConnection connection in _connections.Values)
        {
            VirtioVsockLog.ConnectionEnded(_logger, Id, connection.HostPort, connection.GuestPort, reason);
            connection.Dispose();
        }

        _connections.Clear();
        _control.Clear();
        while (_hostConnects.TryDequeue(out (Socket Socket, uint GuestPort) pending))
        {
            pending.Socket.Dispose();
        }
    }

    private void OnHostConnect(Socket socket, uint guestPort)
    {
        if (_disposed)
        {
            socket.Dispose();
            return;
        }

        _hostConnects.Enqueue((socket, guestPort));
        _context?.ScheduleQueue(RxQueue);
    }

    private void WakeWorker() => _context?.ScheduleQueue(RxQueue);

    // ---- guest to host -------------------------------------------------------------------------------------------

    private void ProcessTx(IVirtioDeviceContext context)
    {
        if (context.Queues.Count <= TxQueue || !context.Queues[TxQueue].IsReady)
        {
            return;
        }

        IVirtqueue queue = context.Queues[TxQueue];
        bool pushed = false;
        while (queue.TryPop(out DescriptorChain? chain))
        {
            HandleTxPacket(chain);
            queue.Push(chain, 0);
            pushed = true;
        }

        if (pushed)
        {
            queue.NotifyGuest();
        }
    }

    private void HandleTxPacket(DescriptorChain chain)
    {
        if (chain.ReadableLength < VsockHeader.Size)
        {
            VirtioVsockLog.ShortChain(_logger, Id, chain.ReadableLength);
            return;
        }

        chain.Read(0, _packet.AsSpan(0, VsockHeader.Size));
        VsockHeader header = VsockHeader.Read(_packet);
        if (Validate(header, chain.ReadableLength) is { } problem)
        {
            Refuse(header, problem);
            return;
        }

        var key = (header.DestinationPort, header.SourcePort);
        _connections.TryGetValue(key, out VsockConnection? connection);
        if (connection is not null)
        {
            connection.PeerBufferAllocation = header.BufferAllocation;
            connection.PeerForwardCount = header.ForwardCount;
        }

        switch (header.Op)
        {
            case VsockOp.Request:
                if (connection is not null)
                {
                    Refuse(header, "REQUEST for a connection that exists");
                    return;
                }

                ConnectToHost(header);
                break;
            case VsockOp.Response:
                if (connection is not { State: VsockConnectionState.Connecting })
                {
                    Refuse(header, "RESPONSE without a pending host connection");
                    return;
                }

                Establish(connection);
                break;
            case VsockOp.Reset:
                if (connection is not null)
                {
                    Remove(connection, "guest sent RST");
                }

                break;
            case VsockOp.Shutdown:
                if (connection is null)
                {
                    Refuse(header, "SHUTDOWN for no connection");
                    return;
                }

                Shutdown(connection, (VsockShutdownFlags)header.Flags);
                break;
            case VsockOp.ReadWrite:
                if (connection is not { State: VsockConnectionState.Established })
                {
                    Refuse(header, "RW for no established connection");
                    return;
                }

                if (header.Length > connection.FreeForGuest)
                {
                    // The guest ignored our credit: the stream cannot stay intact.
                    Refuse(header, $"RW of {header.Length} bytes with {connection.FreeForGuest} bytes of credit");
                    Remove(connection, "credit overrun");
                    return;
                }

                Span<byte> payload = _packet.AsSpan(VsockHeader.Size, (int)header.Length);
                chain.Read(VsockHeader.Size, payload);
                if (!connection.GuestStoppedSending && payload.Length > 0)
                {
                    connection.SendToHost(payload);
                }

                break;
            case VsockOp.CreditUpdate:
                if (connection is not null)
                {
                    connection.CreditRequested = false;
                }

                break;
            case VsockOp.CreditRequest:
                if (connection is not null)
                {
                    QueueControl(connection, VsockOp.CreditUpdate);
                }

                break;
        }
    }

    /// <summary>Why a packet is refused, or null for one this device can act on.</summary>
    private string? Validate(in VsockHeader header, long readableLength)
    {
        if (header.SourceCid != _guestCid)
        {
            return $"source CID {header.SourceCid}, the guest is {_guestCid}";
        }

        if (header.DestinationCid != VsockLayout.HostCid)
        {
            return $"destination CID {header.DestinationCid}, only the host ({VsockLayout.HostCid}) is reachable";
        }

        if (header.Type != VsockSocketType.Stream)
        {
            return $"socket type {(ushort)header.Type}, only streams are served";
        }

        if (header.Op is < VsockOp.Request or > VsockOp.CreditRequest)
        {
            return $"unknown op {(ushort)header.Op}";
        }

        if (header.Length > VsockLayout.MaxPayload || header.Length > readableLength - VsockHeader.Size)
        {
            return $"payload length {header.Length} with {readableLength - VsockHeader.Size} bytes in the request";
        }

        if (header.Op != VsockOp.ReadWrite && header.Length != 0)
        {
            return $"{header.Op} with a payload";
        }

        return null;
    }

    /// <summary>Answers a bad packet with RST (never an RST with an RST).</summary>
    private void Refuse(in VsockHeader header, string reason)
    {
        VirtioVsockLog.BadPacket(_logger, Id, reason);
        if (header.Op != VsockOp.Reset)
        {
            _control.Enqueue(new VsockHeader(VsockLayout.HostCid, _guestCid, header.DestinationPort, header.SourcePort, 0, VsockSocketType.Stream, VsockOp.Reset, 0, 0, 0));
        }
    }

    private void ConnectToHost(in VsockHeader header)
    {
        string path = _uds + "_" + header.DestinationPort.ToString(CultureInfo.InvariantCulture);
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            // Non-blocking: a host listener with a full backlog must not stall the device.
            socket.Blocking = false;
            socket.Connect(new UnixDomainSocketEndPoint(path));
            socket.Blocking = true;
        }
        catch (SocketException ex)
        {
            socket.Dispose();
            VirtioVsockLog.HostConnectFailed(_logger, Id, header.SourcePort, path, ex.Message);
            Refuse(header, "no host listener");
            return;
        }

        var connection = new VsockConnection(socket, header.DestinationPort, header.SourcePort, VsockConnectionState.Established, WakeWorker)
        {
            PeerBufferAllocation = header.BufferAllocation,
            PeerForwardCount = header.ForwardCount,
        };
        _connections.Add((connection.HostPort, connection.GuestPort), connection);
        QueueControl(connection, VsockOp.Response);
        connection.Start();
    }

    private void Establish(VsockConnection connection)
    {
        connection.State = VsockConnectionState.Established;
        byte[] ok = Encoding.ASCII.GetBytes($"OK {connection.HostPort}\n");
        try
        {
            // A few bytes into an empty socket buffer: does not block.
            connection.Socket.Send(ok);
        }
        catch (SocketException ex)
        {
            QueueControl(connection, VsockOp.Reset);
            Remove(connection, ex.Message);
            return;
        }

        connection.Start();
    }

    private void Shutdown(VsockConnection connection, VsockShutdownFlags flags)
    {
        if ((flags & VsockShutdownFlags.Receive) != 0)
        {
            connection.GuestStoppedReceiving = true;
        }

        if ((flags & VsockShutdownFlags.Send) != 0 && !connection.GuestStoppedSending)
        {
            connection.GuestStoppedSending = true;
            connection.EndToHost();
        }

        if (connection.GuestStoppedReceiving && connection.GuestStoppedSending)
        {
            // Linux waits for this RST to finish its close.
            QueueControl(connection, VsockOp.Reset);
            _connections.Remove((connection.HostPort, connection.GuestPort));
            connection.CloseAfterFlush();
            VirtioVsockLog.ConnectionEnded(_logger, Id, connection.HostPort, connection.GuestPort, "guest shut down both directions");
        }
    }

    // ---- host to guest -------------------------------------------------------------------------------------------

    private void AcceptHostConnects()
    {
        while (_hostConnects.TryDequeue(out (Socket Socket, uint GuestPort) pending))
        {
            uint hostPort = AllocateHostPort(pending.GuestPort);
            var connection = new VsockConnection(pending.Socket, hostPort, pending.GuestPort, VsockConnectionState.Connecting, WakeWorker);
            _connections.Add((hostPort, pending.GuestPort), connection);
            QueueControl(connection, VsockOp.Request);
        }
    }

    private uint AllocateHostPort(uint guestPort)
    {
        while (true)
        {
            uint port = _nextHostPort;
            _nextHostPort = _nextHostPort == uint.MaxValue ? FirstHostPort : _nextHostPort + 1;
            if (!_connections.ContainsKey((port, guestPort)))
            {
                return port;
            }
        }
    }

    /// <summary>Turns what the host sockets did (failed, ended, consumed our data) into packets for the guest.</summary>
    private void SweepConnections()
    {
        _scan.Clear();
        _scan.AddRange(_connections.Values);
        foreach (VsockConnection connection in _scan)
        {
            if (connection.HostFailure is { } failure)
            {
                QueueControl(connection, VsockOp.Reset);
                Remove(connection, failure);
                continue;
            }

            if (connection.State != VsockConnectionState.Established)
            {
                continue;
            }

            if (connection.HostEnded && !connection.HostEndSignalled)
            {
                connection.HostEndSignalled = true;
                QueueControl(connection, VsockOp.Shutdown, (uint)VsockShutdownFlags.Send);
            }
            else if (connection.NeedsCreditUpdate)
            {
                QueueControl(connection, VsockOp.CreditUpdate);
            }

            AskForCreditIfStuck(connection);
        }
    }

    /// <summary>Host bytes wait but the guest's buffer is full: ask once for a credit update.</summary>
    private void AskForCreditIfStuck(VsockConnection connection)
    {
        if (connection.PendingFromHost > 0 && connection.PeerCredit == 0 && !connection.CreditRequested)
        {
            connection.CreditRequested = true;
            QueueControl(connection, VsockOp.CreditRequest);
        }
    }

    private void QueueControl(VsockConnection connection, VsockOp op, uint flags = 0)
    {
        uint forwarded = connection.Forwarded;
        connection.ForwardCountSent = forwarded;
        _control.Enqueue(new VsockHeader(VsockLayout.HostCid, _guestCid, connection.HostPort, connection.GuestPort, 0, VsockSocketType.Stream, op, flags, VsockConnection.BufferAllocation, forwarded));
    }

    private void FillRx(IVirtioDeviceContext context)
    {
        if (context.Queues.Count <= RxQueue || !context.Queues[RxQueue].IsReady)
        {
            return;
        }

        IVirtqueue queue = context.Queues[RxQueue];
        bool pushed = false;
        try
        {
            while (true)
            {
                VsockConnection? source = _control.Count > 0 ? null : NextWithData();
                if (_control.Count == 0 && source is null)
                {
                    break;
                }

                if (!queue.TryPop(out DescriptorChain? chain))
                {
                    // The guest posts more buffers and kicks the queue; we go on from here then.
                    break;
                }

                if (chain.WritableLength < VsockHeader.Size)
                {
                    VirtioVsockLog.ShortChain(_logger, Id, chain.WritableLength);
                    queue.Push(chain, 0);
                    pushed = true;
                    continue;
                }

                uint written = source is null ? WriteControl(chain) : WriteData(chain, source);
                queue.Push(chain, written);
                pushed = true;
            }
        }
        finally
        {
            if (pushed)
            {
                queue.NotifyGuest();
            }
        }
    }

    private uint WriteControl(DescriptorChain chain)
    {
        VsockHeader header = _control.Dequeue();
        header.Write(_packet);
        return (uint)chain.Write(0, _packet.AsSpan(0, VsockHeader.Size));
    }

    private uint WriteData(DescriptorChain chain, VsockConnection connection)
    {
        long room = Math.Min(chain.WritableLength - VsockHeader.Size, VsockLayout.MaxPayload);
        int wanted = (int)Math.Min(room, connection.PeerCredit);
        int n = connection.TakeFromHost(_packet.AsSpan(VsockHeader.Size, wanted));
        connection.SentToGuest += (uint)n;
        uint forwarded = connection.Forwarded;
        connection.ForwardCountSent = forwarded;
        var header = new VsockHeader(VsockLayout.HostCid, _guestCid, connection.HostPort, connection.GuestPort, (uint)n, VsockSocketType.Stream, VsockOp.ReadWrite, 0, VsockConnection.BufferAllocation, forwarded);
        header.Write(_packet);
        AskForCreditIfStuck(connection);
        return (uint)chain.Write(0, _packet.AsSpan(0, VsockHeader.Size + n));
    }

    /// <summary>The next established connection (round robin) with host bytes the guest has credit for.</summary>
    private VsockConnection? NextWithData()
    {
        if (_connections.Count == 0)
        {
            return null;
        }

        _scan.Clear();
        _scan.AddRange(_connections.Values);
        for (int i = 0; i < _scan.Count; i++)
        {
            VsockConnection connection = _scan[(_roundRobin + i) % _scan.Count];
            if (connection.State == VsockConnectionState.Established && !connection.GuestStoppedReceiving
                && connection.PendingFromHost > 0 && connection.PeerCredit > 0)
            {
                _roundRobin = (_roundRobin + i + 1) % _scan.Count;
                return connection;
            }
        }

        return null;
    }

    private void Remove(VsockConnection connection, string reason)
    {
        _connections.Remove((connection.HostPort, connection.GuestPort));
        connection.Dispose();
        VirtioVsockLog.ConnectionEnded(_logger, Id, connection.HostPort, connection.GuestPort, reason);
    }

    // ---- events --------------------------------------------------------------------------------------------------

    private void DeliverTransportReset(IVirtioDeviceContext context)
    {
        if (!_transportResetPending || context.Queues.Count <= EventQueue || !context.Queues[EventQueue].IsReady)
        {
            return;
        }

        IVirtqueue queue = context.Queues[EventQueue];
        if (!queue.TryPop(out DescriptorChain? chain))
        {
            return;
        }

        Span<byte> e = stackalloc byte[VsockLayout.EventSize];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(e, VsockLayout.TransportResetEvent);
        queue.Push(chain, (uint)chain.Write(0, e));
        queue.NotifyGuest();
        _transportResetPending = false;
    }
}

using System.Net.Sockets;
using System.Text;
using Vmm.Plugins.VirtioVsock.Host;
using Vmm.Plugins.VirtioVsock.Protocol;

namespace Vmm.Plugins.VirtioVsock.Tests;

/// <summary>
/// The device through the in-process PCI transport, driven as Linux's virtio_transport drives it, against real Unix
/// sockets on the host side.
/// </summary>
public sealed class VirtioVsockDeviceTests
{
    private const uint GuestPort = 50000;
    private const uint HostPort = 1234;

    [Fact]
    public void Config_space_holds_the_guest_cid()
    {
        using var guest = new GuestVsock(GuestVsock.TempSocketPath());
        byte[] config = new byte[8];
        guest.Driver.ReadDeviceConfig(0, config);
        Assert.Equal(GuestVsock.Cid, BitConverter.ToUInt64(config));
        Assert.Equal(3, guest.Driver.QueueCount);
    }

    [Fact]
    public void Guest_connection_to_a_host_port_reaches_the_unix_socket_with_its_suffix_both_ways()
    {
        string uds = GuestVsock.TempSocketPath();
        using var guest = new GuestVsock(uds);
        using Socket listener = Listen(uds + "_" + HostPort);

        guest.Send(GuestVsock.Packet(VsockOp.Request, GuestPort, HostPort));
        VsockHeader response = guest.ReceiveOp(VsockOp.Response);
        Assert.Equal((VsockLayout.HostCid, GuestVsock.Cid, HostPort, GuestPort), (response.SourceCid, response.DestinationCid, response.SourcePort, response.DestinationPort));
        Assert.Equal(VsockConnection.BufferAllocation, response.BufferAllocation);
        using Socket host = listener.Accept();

        guest.Send(GuestVsock.Packet(VsockOp.ReadWrite, GuestPort, HostPort, 5), "hello"u8);
        Assert.Equal("hello", ReadExactly(host, 5));

        host.Send("world"u8);
        var data = new List<byte>();
        while (data.Count < 5)
        {
            (VsockHeader header, byte[] payload) = guest.Receive();
            if (header.Op == VsockOp.ReadWrite)
            {
                data.AddRange(payload);
            }
        }

        Assert.Equal("world", Encoding.ASCII.GetString([.. data]));

        // The guest closes: SHUTDOWN both ways, the device answers RST (Linux waits for it) and the host sees EOF.
        guest.Send(GuestVsock.Packet(VsockOp.Shutdown, GuestPort, HostPort, flags: (uint)VsockShutdownFlags.Both));
        guest.ReceiveOp(VsockOp.Reset);
        Assert.Equal(0, host.Receive(new byte[1]));
    }

    [Fact]
    public void Host_process_connects_with_CONNECT_and_reads_OK_with_its_port()
    {
        using var guest = new GuestVsock(GuestVsock.TempSocketPath());
        using Socket client = ConnectFromHost(guest, "CONNECT 1024\n");

        VsockHeader request = guest.ReceiveOp(VsockOp.Request);
        Assert.Equal(1024u, request.DestinationPort);
        Assert.True(request.SourcePort >= VirtioVsockDevice.FirstHostPort);
        guest.Send(GuestVsock.Packet(VsockOp.Response, 1024, request.SourcePort));
        Assert.Equal($"OK {request.SourcePort}\n", ReadLine(client));

        client.Send("ping"u8);
        var data = new List<byte>();
        while (data.Count < 4)
        {
            (VsockHeader header, byte[] payload) = guest.Receive();
            data.AddRange(payload);
            Assert.Equal(request.SourcePort, header.SourcePort);
        }

        Assert.Equal("ping", Encoding.ASCII.GetString([.. data]));

        // The host closes: the guest hears SHUTDOWN SEND.
        client.Shutdown(SocketShutdown.Send);
        VsockHeader shutdown = guest.ReceiveOp(VsockOp.Shutdown);
        Assert.Equal((uint)VsockShutdownFlags.Send, shutdown.Flags);
    }

    [Fact]
    public void Host_connect_to_a_port_the_guest_refuses_closes_the_client_without_OK()
    {
        using var guest = new GuestVsock(GuestVsock.TempSocketPath());
        using Socket client = ConnectFromHost(guest, "CONNECT 7\n");
        VsockHeader request = guest.ReceiveOp(VsockOp.Request);
        guest.Send(GuestVsock.Packet(VsockOp.Reset, 7, request.SourcePort));
        Assert.Equal(0, client.Receive(new byte[16]));
    }

    [Fact]
    public void A_malformed_CONNECT_line_is_turned_away()
    {
        using var guest = new GuestVsock(GuestVsock.TempSocketPath());
        using Socket client = ConnectFromHost(guest, "HELLO there\n");
        Assert.Equal(0, client.Receive(new byte[16]));
        Assert.Equal(0, guest.Device.ConnectionCount);
    }

    [Fact]
    public void Host_data_beyond_the_guests_credit_waits_for_a_credit_update()
    {
        using var connection = new AcceptedConnection(guestBufferAllocation: 1000);
        (GuestVsock guest, Socket host) = (connection.Guest, connection.Host);

        byte[] sent = new byte[3000];
        new Random(7).NextBytes(sent);
        host.Send(sent);

        // 1000 bytes of credit: the device sends at most that, then asks for more.
        var data = new List<byte>();
        guest.ReceiveOp(VsockOp.CreditRequest, data);
        Assert.Equal(1000, data.Count);

        guest.Send(GuestVsock.Packet(VsockOp.CreditUpdate, GuestPort, HostPort, bufAlloc: 1000, fwdCnt: 1000));
        guest.ReceiveOp(VsockOp.CreditRequest, data);
        Assert.Equal(2000, data.Count);
        guest.Send(GuestVsock.Packet(VsockOp.CreditUpdate, GuestPort, HostPort, bufAlloc: 4000, fwdCnt: 2000));
        while (data.Count < 3000)
        {
            data.AddRange(guest.Receive().Payload);
        }

        Assert.Equal(sent, data.ToArray());
    }

    [Fact]
    public void Guest_data_is_acknowledged_with_credit_updates_once_the_host_took_it()
    {
        using var connection = new AcceptedConnection();
        (GuestVsock guest, Socket host) = (connection.Guest, connection.Host);

        byte[] chunk = new byte[4096];
        for (int i = 0; i < 8; i++)
        {
            guest.Send(GuestVsock.Packet(VsockOp.ReadWrite, GuestPort, HostPort, (uint)chunk.Length), chunk);
        }

        Assert.Equal(8 * 4096, ReadExactly(host, 8 * 4096).Length);
        uint fwd = 0;
        while (fwd < 8 * 4096)
        {
            fwd = guest.ReceiveOp(VsockOp.CreditUpdate).ForwardCount;
        }

        Assert.Equal(8u * 4096, fwd);
    }

    [Fact]
    public void Bad_packets_get_RST_and_the_device_keeps_serving()
    {
        string uds = GuestVsock.TempSocketPath();
        using var guest = new GuestVsock(uds);
        using Socket listener = Listen(uds + "_" + HostPort);

        VsockHeader good = GuestVsock.Packet(VsockOp.Request, GuestPort, HostPort);
        VsockHeader[] bad =
        [
            good with { SourceCid = 99 },
            good with { DestinationCid = 5 },
            good with { Op = (VsockOp)42 },
            good with { Type = VsockSocketType.SeqPacket },
            good with { Op = VsockOp.ReadWrite, Length = 100 },               // no payload behind the claimed length
            good with { Op = VsockOp.ReadWrite, Length = uint.MaxValue },
            good with { Op = VsockOp.ReadWrite, Length = 0 },                 // RW for no connection
            good with { Op = VsockOp.Response },                              // RESPONSE nobody asked for
            good with { Op = VsockOp.Shutdown, Flags = 3 },
        ];
        foreach (VsockHeader packet in bad)
        {
            guest.Send(packet);
            VsockHeader reply = guest.Receive().Header;
            Assert.Equal(VsockOp.Reset, reply.Op);
            Assert.Equal((packet.DestinationPort, packet.SourcePort), (reply.SourcePort, reply.DestinationPort));
        }

        // A request shorter than a header is dropped without an answer, and an RST is never answered.
        guest.Send(good, headerBufferLength: 20);
        guest.Send(good with { Op = VsockOp.Reset });

        // Still serving: the next good request is answered with RESPONSE (the short ones produced nothing).
        guest.Send(good);
        Assert.Equal(VsockOp.Response, guest.Receive().Header.Op);
        using Socket host = listener.Accept();
    }

    [Fact]
    public void A_guest_that_overruns_its_credit_loses_the_connection()
    {
        using var connection = new AcceptedConnection();
        GuestVsock guest = connection.Guest;

        // The host never reads; the guest ignores its 256 KiB of credit and keeps sending (far past what the
        // host socket's buffers can take on top of it).
        byte[] chunk = new byte[VsockLayout.MaxPayload];
        for (int i = 0; i < 20; i++)
        {
            guest.Send(GuestVsock.Packet(VsockOp.ReadWrite, GuestPort, HostPort, (uint)chunk.Length), chunk);
        }

        guest.ReceiveOp(VsockOp.Reset);
        Assert.Equal(0, guest.Device.ConnectionCount);
    }

    [Fact]
    public void A_guest_connection_to_a_port_without_listener_gets_RST()
    {
        using var guest = new GuestVsock(GuestVsock.TempSocketPath());
        guest.Send(GuestVsock.Packet(VsockOp.Request, GuestPort, 4242));
        Assert.Equal(VsockOp.Reset, guest.Receive().Header.Op);
    }

    [Fact]
    public void A_reset_with_open_connections_posts_TRANSPORT_RESET_on_the_event_queue_and_closes_host_sockets()
    {
        using var connection = new AcceptedConnection();
        (GuestVsock guest, Socket host) = (connection.Guest, connection.Host);

        guest.Driver.Initialize();
        Assert.Equal(0, host.Receive(new byte[1]));
        guest.PostEvents();
        Assert.Equal(VsockLayout.TransportResetEvent, guest.WaitForEvent());
    }

    private static Socket Listen(string path)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(path));
        socket.Listen(4);
        return socket;
    }

    /// <summary>A host process connecting to the device's socket and sending its first line (Firecracker's CONNECT).</summary>
    private static Socket ConnectFromHost(GuestVsock guest, string firstLine)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified) { ReceiveTimeout = 10000 };
        socket.Connect(new UnixDomainSocketEndPoint(guest.Uds));
        socket.Send(Encoding.ASCII.GetBytes(firstLine));
        return socket;
    }

    private static string ReadExactly(Socket socket, int count)
    {
        socket.ReceiveTimeout = 10000;
        byte[] buffer = new byte[count];
        int done = 0;
        while (done < count)
        {
            int n = socket.Receive(buffer, done, count - done, SocketFlags.None);
            Assert.NotEqual(0, n);
            done += n;
        }

        return Encoding.ASCII.GetString(buffer);
    }

    private static string ReadLine(Socket socket)
    {
        var line = new StringBuilder();
        byte[] one = new byte[1];
        while (socket.Receive(one) == 1)
        {
            line.Append((char)one[0]);
            if (one[0] == '\n')
            {
                break;
            }
        }

        return line.ToString();
    }

    /// <summary>A guest connection to <see cref="HostPort"/> that the device completed and the host accepted.</summary>
    private sealed class AcceptedConnection : IDisposable
    {
        private readonly Socket _listener;

        public AcceptedConnection(uint guestBufferAllocation = 65536)
        {
            string uds = GuestVsock.TempSocketPath();
            _listener = Listen(uds + "_" + HostPort);
            Guest = new GuestVsock(uds);
            try
            {
                Guest.Send(GuestVsock.Packet(VsockOp.Request, GuestPort, HostPort, bufAlloc: guestBufferAllocation));
                Guest.ReceiveOp(VsockOp.Response);
                Host = _listener.Accept();
            }
            catch
            {
                Guest.Dispose();
                _listener.Dispose();
                throw;
            }
        }

        public GuestVsock Guest { get; }

        public Socket Host { get; }

        public void Dispose()
        {
            Host.Dispose();
            _listener.Dispose();
            Guest.Dispose();
        }
    }
}

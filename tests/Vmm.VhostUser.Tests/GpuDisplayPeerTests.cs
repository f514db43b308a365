using System.Buffers.Binary;
using System.Net.Sockets;
using Vmm.Plugins.VirtioGpu.Testing.VhostUser;
using Vmm.VhostUser.Protocol;

namespace Vmm.VhostUser.Tests;

/// <summary>The vhost-user-gpu display peer against hand-built back-end messages (docs/interop/vhost-user-gpu.rst).</summary>
public sealed class GpuDisplayPeerTests : IDisposable
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(10);

    private readonly Socket _backend;
    private readonly VhostUserGpuDisplayPeer _peer;

    public GpuDisplayPeerTests()
    {
        (Socket backend, Socket display) = SocketPair.Create();
        _backend = backend;
        _peer = new VhostUserGpuDisplayPeer(display, 1920, 1080);
        _peer.Start();
    }

    public void Dispose()
    {
        _backend.Dispose();
        _peer.Dispose();
    }

    [Fact]
    public void Protocol_features_are_answered_and_recorded()
    {
        Send(VhostUserGpuRequest.GetProtocolFeatures, []);
        (VhostUserGpuHeader header, byte[] payload) = ReadReply();
        Assert.Equal(new VhostUserGpuHeader(VhostUserGpuRequest.GetProtocolFeatures, VhostUserGpuHeader.ReplyFlag, 8), header);
        Assert.Equal(VhostUserGpuDisplayPeer.EdidProtocolFeature, BinaryPrimitives.ReadUInt64LittleEndian(payload));
        Assert.Null(_peer.AcceptedProtocolFeatures);

        Send(VhostUserGpuRequest.SetProtocolFeatures, UInt64(VhostUserGpuDisplayPeer.EdidProtocolFeature));
        Assert.True(_peer.WaitForProtocolFeatures(s_timeout));
        Assert.Equal(VhostUserGpuDisplayPeer.EdidProtocolFeature, _peer.AcceptedProtocolFeatures);
    }

    [Fact]
    public void Enabling_a_feature_that_was_not_offered_fails_the_peer()
    {
        Send(VhostUserGpuRequest.SetProtocolFeatures, UInt64(VhostUserGpuDisplayPeer.Dmabuf2ProtocolFeature));
        AssertFails("enables 0x2");
    }

    [Fact]
    public void Display_info_reports_the_preferred_mode_on_scanout_0_only()
    {
        Send(VhostUserGpuRequest.GetDisplayInfo, []);
        (VhostUserGpuHeader header, byte[] info) = ReadReply();
        Assert.Equal(new VhostUserGpuHeader(VhostUserGpuRequest.GetDisplayInfo, VhostUserGpuHeader.ReplyFlag, (uint)VhostUserGpuDisplayPeer.DisplayInfoLength), header);
        Assert.Equal(408, info.Length);
        Assert.Equal(0x1101u, BinaryPrimitives.ReadUInt32LittleEndian(info));
        Assert.Equal(new uint[] { 0, 0, 1920, 1080, 1, 0 }, Words(info.AsSpan(24, 24)));
        Assert.All(info.AsSpan(48).ToArray(), b => Assert.Equal(0, b));
        Assert.Equal(1, _peer.DisplayInfoRequests);
    }

    [Fact]
    public void Edid_is_answered_once_the_feature_is_enabled()
    {
        _peer.Dispose();
        (Socket backend, Socket display) = SocketPair.Create();
        using var peer = new VhostUserGpuDisplayPeer(display, 64, 64) { Edid = new byte[] { 0, 0xFF, 0xFF, 0 } };
        peer.Start();
        using (backend)
        {
            Send(backend, VhostUserGpuRequest.SetProtocolFeatures, UInt64(VhostUserGpuDisplayPeer.EdidProtocolFeature));
            Send(backend, VhostUserGpuRequest.GetEdid, Words(0));
            (VhostUserGpuHeader header, byte[] response) = ReadReply(backend);
            Assert.Equal(new VhostUserGpuHeader(VhostUserGpuRequest.GetEdid, VhostUserGpuHeader.ReplyFlag, 1056), header);
            Assert.Equal(0x1104u, BinaryPrimitives.ReadUInt32LittleEndian(response));
            Assert.Equal(4u, BinaryPrimitives.ReadUInt32LittleEndian(response.AsSpan(24)));
            Assert.Equal(new byte[] { 0, 0xFF, 0xFF, 0 }, response.AsSpan(32, 4).ToArray());
            Assert.Equal(1, peer.EdidRequests);
        }
    }

    [Fact]
    public void Edid_without_the_feature_fails_the_peer()
    {
        Send(VhostUserGpuRequest.GetEdid, Words(0));
        AssertFails("EDID protocol feature");
    }

    [Fact]
    public void Full_width_update_lands_in_the_frame_buffer()
    {
        Send(VhostUserGpuRequest.Scanout, Words(0, 4, 3));
        byte[] pixels = Pattern(4 * 2 * 4, 1);
        SendUpdate(0, 0, 1, 4, 2, pixels);
        Assert.True(_peer.WaitForUpdates(1, s_timeout));
        (byte[] frame, int width, int height) = _peer.CopyFrame();
        Assert.Equal((4, 3), (width, height));
        Assert.Equal(new byte[16], frame.AsSpan(0, 16).ToArray());
        Assert.Equal(pixels, frame.AsSpan(16, 32).ToArray());
        Assert.Equal(32, _peer.UpdatedBytes);
    }

    [Fact]
    public void Partial_update_lands_row_by_row_at_its_offset()
    {
        Send(VhostUserGpuRequest.Scanout, Words(0, 4, 3));
        byte[] pixels = Pattern(2 * 2 * 4, 7);
        SendUpdate(0, 1, 1, 2, 2, pixels);
        Assert.True(_peer.WaitForUpdates(1, s_timeout));
        (byte[] frame, _, _) = _peer.CopyFrame();
        int stride = 16;
        Assert.Equal(pixels.AsSpan(0, 8).ToArray(), frame.AsSpan(stride + 4, 8).ToArray());
        Assert.Equal(pixels.AsSpan(8, 8).ToArray(), frame.AsSpan((2 * stride) + 4, 8).ToArray());
        Assert.Equal(new byte[4], frame.AsSpan(stride, 4).ToArray());
        Assert.Equal(new byte[4], frame.AsSpan(stride + 12, 4).ToArray());
    }

    [Fact]
    public void Update_on_another_scanout_is_counted_and_dropped()
    {
        Send(VhostUserGpuRequest.Scanout, Words(0, 2, 2));
        Send(VhostUserGpuRequest.Scanout, Words(1, 2, 2));
        SendUpdate(1, 0, 0, 2, 2, Pattern(16, 3));
        Assert.True(_peer.WaitForUpdates(1, s_timeout));
        Assert.Equal(new byte[16], _peer.CopyFrame().Pixels);
        Assert.Null(_peer.Failure);
    }

    [Fact]
    public void Update_outside_the_scanout_fails_the_peer()
    {
        Send(VhostUserGpuRequest.Scanout, Words(0, 4, 3));
        SendUpdate(0, 3, 0, 2, 1, Pattern(8, 1));
        AssertFails("outside scanout 0");
    }

    [Fact]
    public void Update_before_any_scanout_fails_the_peer()
    {
        SendUpdate(0, 0, 0, 1, 1, Pattern(4, 1));
        AssertFails("outside scanout 0 (0x0)");
    }

    [Fact]
    public void Update_whose_size_disagrees_with_its_rectangle_fails_the_peer()
    {
        Send(VhostUserGpuRequest.Scanout, Words(0, 4, 3));
        byte[] update = new byte[VhostUserGpuUpdate.Length + 12];
        new VhostUserGpuUpdate(0, 0, 0, 2, 2).Write(update);
        Send(VhostUserGpuRequest.Update, update);
        AssertFails("needs 16 pixel bytes, the message has 12");
    }

    [Fact]
    public void Hostile_rectangle_sizes_do_not_overflow()
    {
        Send(VhostUserGpuRequest.Scanout, Words(0, 4, 3));
        byte[] update = new byte[VhostUserGpuUpdate.Length];
        new VhostUserGpuUpdate(0, 0, 0, 0x4000_0000, 4).Write(update);
        Send(VhostUserGpuRequest.Update, update);
        AssertFails("pixel bytes");
    }

    [Fact]
    public void Oversized_scanout_fails_the_peer()
    {
        Send(VhostUserGpuRequest.Scanout, Words(0, 100_000, 10));
        AssertFails("100000x10");
    }

    [Fact]
    public void Scanout_id_out_of_range_fails_the_peer()
    {
        Send(VhostUserGpuRequest.Scanout, Words(16, 4, 4));
        AssertFails("Scanout 16");
    }

    [Fact]
    public void Cursor_messages_move_show_hide_and_reshape_the_cursor()
    {
        Send(VhostUserGpuRequest.CursorPosition, Words(0, 10, 20));
        Sync();
        Assert.Equal((10, 20, true), _peer.CursorPosition);
        Send(VhostUserGpuRequest.CursorPositionHide, Words(0, 11, 21));
        Sync();
        Assert.Equal((11, 21, false), _peer.CursorPosition);
        byte[] update = new byte[VhostUserGpuDisplayPeer.CursorUpdateLength];
        Words(0, 5, 6, 1, 2).CopyTo(update, 0);
        Send(VhostUserGpuRequest.CursorUpdate, update);
        Sync();
        Assert.Equal((5, 6, true), _peer.CursorPosition);
        Assert.Equal(1, _peer.CursorUpdates);
    }

    [Fact]
    public void Cursor_update_of_the_wrong_size_fails_the_peer()
    {
        Send(VhostUserGpuRequest.CursorUpdate, new byte[100]);
        AssertFails("expected 16404");
    }

    [Fact]
    public void Dmabuf_update_gets_the_empty_reply_the_backend_waits_for()
    {
        Send(VhostUserGpuRequest.DmabufScanout, new byte[40]);
        byte[] update = new byte[VhostUserGpuUpdate.Length];
        new VhostUserGpuUpdate(0, 0, 0, 8, 8).Write(update);
        Send(VhostUserGpuRequest.DmabufUpdate, update);
        (VhostUserGpuHeader header, byte[] payload) = ReadReply();
        Assert.Equal(new VhostUserGpuHeader(VhostUserGpuRequest.DmabufUpdate, VhostUserGpuHeader.ReplyFlag, 0), header);
        Assert.Empty(payload);
        Assert.Equal(1, _peer.DmabufScanouts);
        Assert.Equal(1, _peer.DmabufUpdates);
    }

    [Fact]
    public void Unknown_request_fails_the_peer()
    {
        Send((VhostUserGpuRequest)99, []);
        AssertFails("99");
    }

    [Fact]
    public void Oversized_control_payload_fails_the_peer_before_reading_it()
    {
        Span<byte> header = stackalloc byte[VhostUserGpuHeader.Length];
        new VhostUserGpuHeader(VhostUserGpuRequest.Scanout, 0, 1 << 20).Write(header);
        _backend.Send(header);
        AssertFails("1048576-byte payload");
    }

    [Fact]
    public void Backend_closing_mid_message_fails_the_peer()
    {
        Span<byte> header = stackalloc byte[VhostUserGpuHeader.Length];
        new VhostUserGpuHeader(VhostUserGpuRequest.Scanout, 0, 12).Write(header);
        _backend.Send(header);
        _backend.Send(new byte[4]);
        _backend.Shutdown(SocketShutdown.Send);
        AssertFails("middle of a message");
    }

    [Fact]
    public void Backend_closing_between_messages_closes_the_peer_cleanly()
    {
        Sync();
        _backend.Shutdown(SocketShutdown.Send);
        Assert.True(_peer.WaitForClose(s_timeout));
        Assert.Null(_peer.Failure);
    }

    private void AssertFails(string messagePart)
    {
        Assert.True(_peer.WaitForClose(s_timeout), "the peer kept reading");
        VhostUserProtocolException failure = Assert.IsType<VhostUserProtocolException>(_peer.Failure);
        Assert.Contains(messagePart, failure.Message, StringComparison.Ordinal);
    }

    /// <summary>Messages are handled in order: once a later request is answered, the earlier ones are done.</summary>
    private void Sync()
    {
        Send(VhostUserGpuRequest.GetProtocolFeatures, []);
        Assert.Equal(VhostUserGpuRequest.GetProtocolFeatures, ReadReply().Header.Request);
    }

    private void Send(VhostUserGpuRequest request, ReadOnlySpan<byte> payload) => Send(_backend, request, payload);

    private (VhostUserGpuHeader Header, byte[] Payload) ReadReply() => ReadReply(_backend);

    private void SendUpdate(uint scanout, uint x, uint y, uint width, uint height, byte[] pixels)
    {
        byte[] payload = new byte[VhostUserGpuUpdate.Length + pixels.Length];
        new VhostUserGpuUpdate(scanout, x, y, width, height).Write(payload);
        pixels.CopyTo(payload, VhostUserGpuUpdate.Length);
        Send(VhostUserGpuRequest.Update, payload);
    }

    private static void Send(Socket socket, VhostUserGpuRequest request, ReadOnlySpan<byte> payload)
    {
        byte[] message = new byte[VhostUserGpuHeader.Length + payload.Length];
        new VhostUserGpuHeader(request, 0, (uint)payload.Length).Write(message);
        payload.CopyTo(message.AsSpan(VhostUserGpuHeader.Length));
        socket.Send(message);
    }

    private static (VhostUserGpuHeader Header, byte[] Payload) ReadReply(Socket socket)
    {
        byte[] header = new byte[VhostUserGpuHeader.Length];
        ReceiveExactly(socket, header);
        VhostUserGpuHeader parsed = VhostUserGpuHeader.Read(header);
        byte[] payload = new byte[parsed.Size];
        ReceiveExactly(socket, payload);
        return (parsed, payload);
    }

    private static void ReceiveExactly(Socket socket, byte[] buffer)
    {
        socket.ReceiveTimeout = (int)s_timeout.TotalMilliseconds;
        for (int done = 0; done < buffer.Length;)
        {
            int received = socket.Receive(buffer, done, buffer.Length - done, SocketFlags.None);
            Assert.True(received > 0, "the peer closed the socket");
            done += received;
        }
    }

    private static byte[] UInt64(ulong value)
    {
        byte[] bytes = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, value);
        return bytes;
    }

    private static byte[] Words(params uint[] values)
    {
        byte[] bytes = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(i * 4), values[i]);
        }

        return bytes;
    }

    private static uint[] Words(ReadOnlySpan<byte> bytes)
    {
        uint[] values = new uint[bytes.Length / 4];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = BinaryPrimitives.ReadUInt32LittleEndian(bytes[(i * 4)..]);
        }

        return values;
    }

    private static byte[] Pattern(int length, int seed)
    {
        byte[] bytes = new byte[length];
        for (int i = 0; i < length; i++)
        {
            bytes[i] = (byte)((i * 31) + seed + 1);
        }

        return bytes;
    }
}

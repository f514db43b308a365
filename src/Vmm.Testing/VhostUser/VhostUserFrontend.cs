using System.Buffers.Binary;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using Vmm.Contracts.Virtio;
using Vmm.Core.Memory;
using Vmm.Interop;
using Vmm.Testing.Virtio;
using Vmm.VhostUser.Protocol;

namespace Vmm.Testing.VhostUser;

/// <summary>
/// A vhost-user front-end for tests and benchmarks: it plays QEMU's part against any back-end (ours, QEMU's
/// vhost-user-gpu, virtiofsd). It owns memfd guest memory, hands it over with SET_MEM_TABLE, negotiates
/// features and sets up rings with <see cref="DriverVirtqueue"/> and kick/call eventfds.
/// </summary>
public sealed class VhostUserFrontend : IDisposable
{
    private readonly VhostUserChannel _channel;
    private readonly List<VhostUserFrontendQueue> _queues = [];
    private readonly VhostUserMessage _reply = new();

    private VhostUserFrontend(VhostUserChannel channel, GuestMemory memory)
    {
        _channel = channel;
        Memory = memory;
        // The first 64 KiB stay free so tests can place hostile structures at known addresses.
        Allocator = new GuestMemoryAllocator(memory, 0x10000, memory.Regions[^1].End);
    }

    /// <summary>The guest memory shared with the back-end.</summary>
    public GuestMemory Memory { get; }

    /// <summary>Allocates rings and buffers in <see cref="Memory"/>.</summary>
    public GuestMemoryAllocator Allocator { get; }

    /// <summary>The virtio features both sides agreed on (after <see cref="Negotiate"/>).</summary>
    public ulong NegotiatedFeatures { get; private set; }

    /// <summary>The protocol features both sides agreed on.</summary>
    public ulong ProtocolFeatures { get; private set; }

    internal VhostUserChannel Channel => _channel;

    /// <summary>Connects to a back-end's socket and creates <paramref name="memorySize"/> bytes of memfd guest memory.</summary>
    public static VhostUserFrontend Connect(string socketPath, ulong memorySize = 16 << 20)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Connect(new UnixDomainSocketEndPoint(socketPath));
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        GuestMemory memory = GuestMemory.Create(memorySize);
        return new VhostUserFrontend(new VhostUserChannel(socket), memory);
    }

    /// <summary>
    /// QEMU's opening sequence: GET_FEATURES, GET/SET_PROTOCOL_FEATURES, SET_OWNER, SET_FEATURES (the back-end's
    /// features masked by <paramref name="wantedFeatures"/>), SET_MEM_TABLE.
    /// </summary>
    public void Negotiate(ulong wantedFeatures = ulong.MaxValue)
    {
        ulong offered = GetUInt64(VhostUserRequest.GetFeatures);
        if ((offered & VhostUserProtocolFeatures.ProtocolFeaturesBit) != 0)
        {
            ulong protocol = GetUInt64(VhostUserRequest.GetProtocolFeatures);
            ProtocolFeatures = protocol & (VhostUserProtocolFeatures.MultipleQueues | VhostUserProtocolFeatures.ReplyAck | VhostUserProtocolFeatures.Config);
            SendUInt64(VhostUserRequest.SetProtocolFeatures, ProtocolFeatures);
        }

        Send(VhostUserRequest.SetOwner, []);
        NegotiatedFeatures = offered & (wantedFeatures | VhostUserProtocolFeatures.ProtocolFeaturesBit);
        SendUInt64(VhostUserRequest.SetFeatures, NegotiatedFeatures);
        SetMemoryTable();
    }

    /// <summary>Asks how many queues the back-end has (needs the MQ protocol feature).</summary>
    public int GetQueueCount() => (int)GetUInt64(VhostUserRequest.GetQueueNum);

    /// <summary>Sends SET_MEM_TABLE with one region per mapped memfd region; user addresses are our own mappings.</summary>
    public void SetMemoryTable()
    {
        IReadOnlyList<GuestMemoryRegion> regions = Memory.MappedRegions;
        Span<byte> payload = stackalloc byte[8 + (regions.Count * MemoryRegionDescription.Length)];
        payload.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(payload, (uint)regions.Count);
        var fds = new SafeHandle[regions.Count];
        for (int i = 0; i < regions.Count; i++)
        {
            GuestMemoryRegion region = regions[i];
            new MemoryRegionDescription(region.GuestAddress, region.Size, (ulong)region.HostAddress, (ulong)region.FileOffset)
                .Write(payload.Slice(8 + (i * MemoryRegionDescription.Length)));
            fds[i] = region.File ?? throw new InvalidOperationException("Guest memory without a backing file cannot be shared.");
        }

        Send(VhostUserRequest.SetMemTable, payload, fds);
    }

    /// <summary>
    /// Sets up ring <paramref name="index"/> with <paramref name="size"/> entries the way QEMU starts a queue:
    /// NUM, BASE, ADDR, KICK, CALL, ERR, then ENABLE.
    /// </summary>
    public VhostUserFrontendQueue StartQueue(int index, ushort size)
    {
        bool eventIndex = (NegotiatedFeatures & VirtioFeatures.RingEventIndex) != 0;
        bool indirect = (NegotiatedFeatures & VirtioFeatures.RingIndirectDescriptors) != 0;
        var driver = new DriverVirtqueue(Memory, Allocator, size, eventIndex, indirect);
        SafeFileHandle kick = HostEventFd.Create(nonBlocking: true);
        SafeFileHandle call = HostEventFd.Create(nonBlocking: true);
        SafeFileHandle error = HostEventFd.Create(nonBlocking: true);
        var queue = new VhostUserFrontendQueue(index, driver, kick, call, error);
        _queues.Add(queue);

        SendVringState(VhostUserRequest.SetVringNum, (uint)index, size);
        SendVringState(VhostUserRequest.SetVringBase, (uint)index, 0);
        Span<byte> address = stackalloc byte[VringAddress.Length];
        new VringAddress((uint)index, 0, UserAddress(driver.DescriptorTableAddress), UserAddress(driver.UsedRingAddress), UserAddress(driver.AvailableRingAddress), 0).Write(address);
        Send(VhostUserRequest.SetVringAddr, address);
        SendVringDescriptor(VhostUserRequest.SetVringKick, index, kick);
        SendVringDescriptor(VhostUserRequest.SetVringCall, index, call);
        SendVringDescriptor(VhostUserRequest.SetVringErr, index, error);
        if ((NegotiatedFeatures & VhostUserProtocolFeatures.ProtocolFeaturesBit) != 0)
        {
            SendVringState(VhostUserRequest.SetVringEnable, (uint)index, 1);
        }

        return queue;
    }

    /// <summary>Stops ring <paramref name="index"/> (GET_VRING_BASE) and returns where the back-end stopped.</summary>
    public ushort StopQueue(int index)
    {
        Span<byte> payload = stackalloc byte[VringState.Length];
        new VringState((uint)index, 0).Write(payload);
        Request(VhostUserRequest.GetVringBase, payload, default, expectReply: true);
        if (_reply.Payload.Length != VringState.Length)
        {
            throw new VhostUserProtocolException("GET_VRING_BASE reply has the wrong length.");
        }

        return (ushort)BinaryPrimitives.ReadUInt32LittleEndian(_reply.Payload[4..]);
    }

    /// <summary>Reads <paramref name="size"/> bytes of device config at <paramref name="offset"/>; empty when the back-end refused.</summary>
    public byte[] GetConfig(int offset, int size)
    {
        byte[] payload = new byte[VhostUserPayloads.ConfigHeaderLength + size];
        BinaryPrimitives.WriteUInt32LittleEndian(payload, (uint)offset);
        BinaryPrimitives.WriteUInt32LittleEndian(payload.AsSpan(4), (uint)size);
        Request(VhostUserRequest.GetConfig, payload, default, expectReply: true);
        return _reply.Payload.Length <= VhostUserPayloads.ConfigHeaderLength ? [] : _reply.Payload[VhostUserPayloads.ConfigHeaderLength..].ToArray();
    }

    /// <summary>
    /// Sends VHOST_USER_GPU_SET_SOCKET with <paramref name="displaySocket"/>, the back-end's end of the display
    /// socket. Never asks for an acknowledgement: libvhost-user (QEMU's vhost-user-gpu) handles this request outside
    /// its REPLY_ACK path and would leave the front-end waiting.
    /// </summary>
    public void SetGpuSocket(Socket displaySocket)
    {
        ArgumentNullException.ThrowIfNull(displaySocket);
        _channel.Send(new VhostUserHeader(VhostUserRequest.GpuSetSocket, VhostUserHeader.Version, 0), [], [displaySocket.SafeHandle]);
    }

    /// <summary>Translates a guest physical address to our user address (what QEMU puts in SET_VRING_ADDR).</summary>
    public ulong UserAddress(ulong guestAddress)
    {
        foreach (GuestMemoryRegion region in Memory.MappedRegions)
        {
            if (guestAddress >= region.GuestAddress && guestAddress < region.End)
            {
                return (ulong)region.HostAddress + (guestAddress - region.GuestAddress);
            }
        }

        throw new ArgumentOutOfRangeException(nameof(guestAddress), guestAddress, "Not in guest memory.");
    }

    /// <summary>Sends a message; with REPLY_ACK negotiated it asks for and checks the acknowledgement.</summary>
    internal void Send(VhostUserRequest request, ReadOnlySpan<byte> payload, ReadOnlySpan<SafeHandle> descriptors = default) =>
        Request(request, payload, descriptors, expectReply: false);

    /// <summary>Closes the connection, the eventfds and the guest memory.</summary>
    public void Dispose()
    {
        _channel.Dispose();
        foreach (VhostUserFrontendQueue queue in _queues)
        {
            queue.Dispose();
        }

        _reply.Dispose();
        Memory.Dispose();
    }

    private void SendVringState(VhostUserRequest request, uint index, uint number)
    {
        Span<byte> payload = stackalloc byte[VringState.Length];
        new VringState(index, number).Write(payload);
        Send(request, payload);
    }

    private void SendVringDescriptor(VhostUserRequest request, int index, SafeFileHandle handle)
    {
        Span<byte> payload = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(payload, (ulong)index);
        Send(request, payload, [handle]);
    }

    private void SendUInt64(VhostUserRequest request, ulong value)
    {
        Span<byte> payload = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(payload, value);
        Send(request, payload);
    }

    private ulong GetUInt64(VhostUserRequest request)
    {
        Request(request, [], default, expectReply: true);
        if (_reply.Payload.Length != 8)
        {
            throw new VhostUserProtocolException($"{request} reply is {_reply.Payload.Length} bytes, expected 8.");
        }

        return BinaryPrimitives.ReadUInt64LittleEndian(_reply.Payload);
    }

    private void Request(VhostUserRequest request, ReadOnlySpan<byte> payload, ReadOnlySpan<SafeHandle> descriptors, bool expectReply)
    {
        bool ack = !expectReply && (ProtocolFeatures & VhostUserProtocolFeatures.ReplyAck) != 0;
        uint flags = VhostUserHeader.Version | (ack ? VhostUserHeader.NeedReplyFlag : 0);
        _channel.Send(new VhostUserHeader(request, flags, (uint)payload.Length), payload, descriptors);
        if (!expectReply && !ack)
        {
            return;
        }

        if (!_channel.Receive(_reply))
        {
            throw new VhostUserProtocolException($"The back-end closed the connection instead of answering {request}.");
        }

        if (_reply.Header.Request != request || (_reply.Header.Flags & VhostUserHeader.ReplyFlag) == 0)
        {
            throw new VhostUserProtocolException($"Expected a reply to {request}, got {_reply.Header.Request} (flags 0x{_reply.Header.Flags:x}).");
        }

        if (ack && (_reply.Payload.Length != 8 || BinaryPrimitives.ReadUInt64LittleEndian(_reply.Payload) != 0))
        {
            throw new VhostUserProtocolException($"The back-end rejected {request}.");
        }
    }
}

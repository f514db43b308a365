using System.Buffers.Binary;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Vmm.Contracts.Devices;
using Vmm.Contracts.Gpu;
using Vmm.Contracts.Virtio;
using Vmm.Plugins.CrossDomain.Protocol;
using Vmm.Plugins.VirtioGpu.Testing;
using Vmm.Plugins.VirtioGpu;
using Vmm.Testing.Driver;
using Vmm.Testing.InProcess;
using Vmm.Testing.Virtio;
using static Vmm.Plugins.CrossDomain.Protocol.CrossDomainLayout;

namespace Vmm.Plugins.CrossDomain.Tests;

/// <summary>
/// The guest side of a cross-domain channel, as muvm-x11bridge drives it through Linux's virtio-gpu driver: a
/// virtio-gpu device with the cross-domain context type behind the in-process PCI machine; CTX_CREATE(capset 5),
/// two 4 KiB guest-blob rings attached to the context, INIT, one ring-1-fenced POLL outstanding, SEND for bytes
/// to the host, and RECEIVE/READ read back from the channel ring each time the POLL fence signals.
/// Every command is built byte by byte from the protocol, independently of the plugin's writers.
/// </summary>
internal sealed class CrossDomainGuest : IDisposable
{
    public const uint OkNoData = 0x1100;
    public const uint ErrInvalidParameter = 0x1205;
    public const uint ContextId = 1;
    public const uint QueryRingId = 1;
    public const uint ChannelRingId = 2;

    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(15);
    private readonly ServiceProvider _services;
    private readonly Dictionary<ushort, uint> _used = [];
    private readonly List<byte> _stream = [];
    private ulong _nextFence = 1;
    private ushort? _pollHead;

    public CrossDomainGuest(CrossDomainSettings settings, VirtioGpuOptions? options = null)
    {
        Type = new CrossDomainContextType(settings);
        _services = new ServiceCollection().AddSingleton<IGpuContextType>(Type).BuildServiceProvider();
        Machine = new InProcessMachine();
        var factory = (IDeviceFactory)new VirtioGpuDeviceFactory();
        Device = factory.Create(new DeviceCreateContext("gpu0", NullLoggerFactory.Instance, null, _services, AppContext.BaseDirectory), options ?? new VirtioGpuOptions());
        Transport = Machine.AttachVirtioDevice((IVirtioDevice)Device);
        Driver = VirtioPciDriver.Open(Machine, VirtioDeviceType.Gpu);
        Driver.Initialize();
        QueryRing = Machine.AllocateBuffer(4096);
        ChannelRing = Machine.AllocateBuffer(4096);
    }

    public CrossDomainContextType Type { get; }

    public InProcessMachine Machine { get; }

    public IDevice Device { get; }

    /// <summary>The virtio-pci transport; its shared memory holds the host-visible window when one was asked for.</summary>
    public Vmm.Core.Virtio.Pci.VirtioPciTransport Transport { get; }

    /// <summary>The identifiers (id, type, size) of every RECEIVE so far, oldest first.</summary>
    public Queue<(uint Id, uint Type, uint Size)> ReceivedIdentifiers { get; } = new();

    public VirtioPciDriver Driver { get; }

    public GuestBuffer QueryRing { get; }

    public GuestBuffer ChannelRing { get; }

    /// <summary>CTX_CREATE(capset 5), both rings as guest blobs attached to the context, INIT, and the first POLL.</summary>
    public void Open(uint channelType)
    {
        Assert.Equal(OkNoData, Control(CreateContext(ContextId, CapsetId)));
        AttachRings();
        Assert.Equal(OkNoData, Submit(Init(QueryRingId, ChannelRingId, channelType)));
        Poll();
    }

    public void AttachRings()
    {
        foreach ((uint id, GuestBuffer ring) in new[] { (QueryRingId, QueryRing), (ChannelRingId, ChannelRing) })
        {
            Assert.Equal(OkNoData, Control(CreateGuestBlob(id, ring)));
            Assert.Equal(OkNoData, Control(Command(0x0202, 32, ContextId, (24, id))));
        }
    }

    /// <summary>Posts SUBMIT_3D(POLL) fenced on ring 1; its answer comes when the host has a message.</summary>
    public void Poll()
    {
        byte[] poll = new byte[CrossDomainLayout.Poll.Size];
        poll[Header.Command] = (byte)CrossDomainCommandType.Poll;
        BinaryPrimitives.WriteUInt16LittleEndian(poll.AsSpan(Header.CommandSize), (ushort)poll.Length);
        byte[] submit = SubmitCommand(poll, flags: 3, fence: _nextFence++, ring: 1);
        _pollHead = Driver.Submit(0, [Copy(submit)], [Machine.AllocateBuffer(24)]);
    }

    /// <summary>SENDs <paramref name="data"/> (chunks of at most 3744 bytes, as the bridge does) with no identifiers.</summary>
    public void Send(ReadOnlySpan<byte> data)
    {
        for (int offset = 0; offset < data.Length; offset += MaxMessageData)
        {
            ReadOnlySpan<byte> chunk = data.Slice(offset, Math.Min(MaxMessageData, data.Length - offset));
            Assert.Equal(OkNoData, Submit(SendMessage(chunk, [])));
        }
    }

    /// <summary>Waits for the POLL fence, returns the channel ring's message, and posts the next POLL.</summary>
    public byte[] WaitForMessage()
    {
        ushort head = _pollHead ?? throw new InvalidOperationException("No POLL is outstanding.");
        WaitFor(head);
        _pollHead = null;
        byte[] ring = Machine.Memory.GetSpan(ChannelRing.Address, 4096).ToArray();
        int size = BinaryPrimitives.ReadUInt16LittleEndian(ring.AsSpan(Header.CommandSize));
        Assert.InRange(size, Header.Size, 4096);
        Poll();
        return ring[..size];
    }

    /// <summary>The ids of every FUTEX_SIGNAL the host sent so far, oldest first.</summary>
    public Queue<uint> FutexSignals { get; } = new();

    /// <summary>Every READ (identifier, hang_up, data) the host sent so far, oldest first.</summary>
    public Queue<(uint Id, bool HangUp, byte[] Data)> Reads { get; } = new();

    /// <summary>Reads RECEIVE messages until <paramref name="count"/> bytes of stream data came (the rest is kept); an EOF fails.</summary>
    public byte[] Receive(int count)
    {
        List<byte> stream = _stream;
        while (stream.Count < count)
        {
            Pump();
        }

        byte[] taken = [.. stream.GetRange(0, count)];
        stream.RemoveRange(0, count);
        return taken;
    }

    /// <summary>Reads messages until the host signalled futex <paramref name="id"/> (as muvm's bridge, other messages are kept).</summary>
    public void WaitForFutexSignal(uint id)
    {
        while (!FutexSignals.Contains(id))
        {
            Pump();
        }

        Queue<uint> rest = new(FutexSignals.Where(signalled => signalled != id));
        FutexSignals.Clear();
        foreach (uint other in rest)
        {
            FutexSignals.Enqueue(other);
        }
    }

    /// <summary>Reads messages until a READ came; returns the oldest.</summary>
    public (uint Id, bool HangUp, byte[] Data) WaitForRead()
    {
        while (Reads.Count == 0)
        {
            Pump();
        }

        return Reads.Dequeue();
    }

    /// <summary>Takes one channel-ring message and files it by type: RECEIVE into the stream, FUTEX_SIGNAL and READ into their queues.</summary>
    public void Pump()
    {
        byte[] message = WaitForMessage();
        switch ((CrossDomainCommandType)message[Header.Command])
        {
            case CrossDomainCommandType.Receive:
                int size = (int)BinaryPrimitives.ReadUInt32LittleEndian(message.AsSpan(SendReceive.DataSize));
                Assert.True(size > 0, "the host closed the channel (RECEIVE with no data)");
                uint identifiers = BinaryPrimitives.ReadUInt32LittleEndian(message.AsSpan(SendReceive.IdentifierCount));
                for (int i = 0; i < identifiers; i++)
                {
                    ReceivedIdentifiers.Enqueue((
                        BinaryPrimitives.ReadUInt32LittleEndian(message.AsSpan(SendReceive.Identifiers + (4 * i))),
                        BinaryPrimitives.ReadUInt32LittleEndian(message.AsSpan(SendReceive.IdentifierTypes + (4 * i))),
                        BinaryPrimitives.ReadUInt32LittleEndian(message.AsSpan(SendReceive.IdentifierSizes + (4 * i)))));
                }

                _stream.AddRange(message.AsSpan(SendReceive.Data, size));
                break;
            case CrossDomainCommandType.FutexSignal:
                Assert.Equal(16, message.Length);
                FutexSignals.Enqueue(BinaryPrimitives.ReadUInt32LittleEndian(message.AsSpan(8)));
                break;
            case CrossDomainCommandType.Read:
                int length = (int)BinaryPrimitives.ReadUInt32LittleEndian(message.AsSpan(16));
                Reads.Enqueue((BinaryPrimitives.ReadUInt32LittleEndian(message.AsSpan(8)), BinaryPrimitives.ReadUInt32LittleEndian(message.AsSpan(12)) != 0, message.AsSpan(24, length).ToArray()));
                break;
            default:
                Assert.Fail($"the host wrote command {message[Header.Command]} into the channel ring");
                break;
        }
    }

    /// <summary>Sends a control command and waits for its answer; returns the response type.</summary>
    public uint Control(byte[] command, params byte[][] payloads) => BinaryPrimitives.ReadUInt32LittleEndian(ControlResponse(command, 24, payloads));

    public byte[] ControlResponse(byte[] command, int responseSize, params byte[][] payloads)
    {
        GuestBuffer response = Machine.AllocateBuffer((uint)responseSize);
        GuestBuffer[] readable = [Copy(command), .. payloads.Select(Copy)];
        ushort head = Driver.Submit(0, readable, [response]);
        uint length = WaitFor(head);
        return Machine.Memory.GetSpan(response.Address, (int)length).ToArray();
    }

    /// <summary>SUBMIT_3D of <paramref name="stream"/> (no fence); returns the response type.</summary>
    public uint Submit(byte[] stream) => Control(SubmitCommand(stream, 0, 0, 0));

    public static byte[] Command(uint type, int size, uint contextId, params (int Offset, uint Value)[] fields)
    {
        byte[] bytes = GpuCommandBytes.Command(type, size, fields);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(16), contextId);
        return bytes;
    }

    public static byte[] CreateContext(uint id, uint capset)
    {
        byte[] bytes = Command(0x0200, 96, id, (24, 6), (28, capset));
        "xbridge"u8.CopyTo(bytes.AsSpan(32));
        return bytes;
    }

    /// <summary>RESOURCE_CREATE_BLOB(GUEST, MAPPABLE) over one guest buffer, as the bridge makes its rings.</summary>
    public static byte[] CreateGuestBlob(uint id, GuestBuffer buffer)
    {
        byte[] bytes = Command(0x010C, 56 + 16, 0, (24, id), (28, 1), (32, 1), (36, 1));
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(48), buffer.Length);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(56), buffer.Address);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(64), buffer.Length);
        return bytes;
    }

    /// <summary>INIT v1 (24 bytes): query ring, channel ring, channel type, protocol_version 1.</summary>
    public static byte[] Init(uint queryRing, uint channelRing, uint channelType)
    {
        byte[] init = new byte[24];
        init[0] = 1;
        BinaryPrimitives.WriteUInt16LittleEndian(init.AsSpan(2), 24);
        BinaryPrimitives.WriteUInt32LittleEndian(init.AsSpan(8), queryRing);
        BinaryPrimitives.WriteUInt32LittleEndian(init.AsSpan(12), channelRing);
        BinaryPrimitives.WriteUInt32LittleEndian(init.AsSpan(16), channelType);
        BinaryPrimitives.WriteUInt32LittleEndian(init.AsSpan(20), 1);
        return init;
    }

    /// <summary>SEND: num_identifiers @8, opaque_data_size @12, identifiers @16, types @128, sizes @240, data @352.</summary>
    public static byte[] SendMessage(ReadOnlySpan<byte> data, (uint Id, uint Type)[] identifiers)
    {
        byte[] send = new byte[352 + data.Length];
        send[0] = 4;
        BinaryPrimitives.WriteUInt16LittleEndian(send.AsSpan(2), (ushort)send.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(send.AsSpan(8), (uint)identifiers.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(send.AsSpan(12), (uint)data.Length);
        for (int i = 0; i < identifiers.Length; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(send.AsSpan(16 + (4 * i)), identifiers[i].Id);
            BinaryPrimitives.WriteUInt32LittleEndian(send.AsSpan(128 + (4 * i)), identifiers[i].Type);
        }

        data.CopyTo(send.AsSpan(352));
        return send;
    }

    /// <summary>libkrun's FUTEX_NEW (32 bytes): fs_id u64 @8, handle u64 @16, id u32 @24.</summary>
    public static byte[] FutexNew(ulong fsId, ulong handle, uint id)
    {
        byte[] command = new byte[32];
        command[0] = 8;
        BinaryPrimitives.WriteUInt16LittleEndian(command.AsSpan(2), 32);
        BinaryPrimitives.WriteUInt64LittleEndian(command.AsSpan(8), fsId);
        BinaryPrimitives.WriteUInt64LittleEndian(command.AsSpan(16), handle);
        BinaryPrimitives.WriteUInt32LittleEndian(command.AsSpan(24), id);
        return command;
    }

    /// <summary>A 16-byte command with one id @8: FUTEX_SIGNAL (9), FUTEX_DESTROY (10), READ_EVENTFD_NEW (11).</summary>
    public static byte[] IdCommand(byte command, uint id)
    {
        byte[] bytes = new byte[16];
        bytes[0] = command;
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(2), 16);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), id);
        return bytes;
    }

    /// <summary>WRITE: identifier @8, hang_up @12, opaque_data_size @16, data @24.</summary>
    public static byte[] WriteMessage(uint identifier, ReadOnlySpan<byte> data, bool hangUp = false)
    {
        byte[] write = new byte[24 + data.Length];
        write[0] = 7;
        BinaryPrimitives.WriteUInt16LittleEndian(write.AsSpan(2), (ushort)write.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(write.AsSpan(8), identifier);
        BinaryPrimitives.WriteUInt32LittleEndian(write.AsSpan(12), hangUp ? 1u : 0u);
        BinaryPrimitives.WriteUInt32LittleEndian(write.AsSpan(16), (uint)data.Length);
        data.CopyTo(write.AsSpan(24));
        return write;
    }

    public byte[] SubmitCommand(byte[] stream, uint flags, ulong fence, byte ring)
    {
        byte[] bytes = Command(0x0207, 32 + stream.Length, ContextId, (4, flags), (24, (uint)stream.Length));
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(8), fence);
        bytes[20] = ring;
        stream.CopyTo(bytes, 32);
        return bytes;
    }

    public GuestBuffer Copy(byte[] bytes)
    {
        GuestBuffer buffer = Machine.AllocateBuffer((uint)Math.Max(1, bytes.Length));
        Machine.Memory.Write(buffer.Address, bytes);
        return buffer with { Length = (uint)bytes.Length };
    }

    /// <summary>Reaps used buffers until <paramref name="head"/> is among them (a parked POLL may come back first).</summary>
    public uint WaitFor(ushort head)
    {
        uint length;
        while (!_used.Remove(head, out length))
        {
            (ushort done, uint written) = Driver.WaitForUsed(0, s_timeout);
            _used[done] = written;
        }

        return length;
    }

    /// <summary>Whether the outstanding POLL came back (after a CTX_DESTROY it must).</summary>
    public bool PollReturned(TimeSpan timeout)
    {
        if (_pollHead is not ushort head)
        {
            return false;
        }

        try
        {
            long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
            while (!_used.ContainsKey(head))
            {
                (ushort done, uint written) = Driver.WaitForUsed(0, TimeSpan.FromMilliseconds(Math.Max(1, deadline - Environment.TickCount64)));
                _used[done] = written;
            }

            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    public void Dispose()
    {
        Device.Dispose();
        Machine.Dispose();
        _services.Dispose();
    }
}

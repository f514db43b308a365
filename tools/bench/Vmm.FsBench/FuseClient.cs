using System.Buffers.Binary;
using System.Text;
using Vmm.Contracts.Virtio;
using Vmm.Testing.VhostUser;

namespace Vmm.FsBench;

/// <summary>
/// A minimal FUSE client over a vhost-user front-end, laying requests out as Linux 6.1's virtio_fs does: header,
/// packed args, one descriptor per 4 KiB data page; out-header, out-args, data pages. Up to <c>depth</c> requests in
/// flight on its queue, each in a slot of its own (request and reply areas), answered in any order.
/// </summary>
internal sealed class FuseClient
{
    private const int Page = 4096;
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);

    private readonly VhostUserFrontend _frontend;
    private readonly VhostUserFrontendQueue _queue;
    private readonly ulong[] _request;
    private readonly ulong[] _reply;
    private readonly int[] _outArgs;
    private readonly Dictionary<ushort, int> _slotOfHead = [];
    private readonly GuestBuffer[] _readable = new GuestBuffer[300];
    private readonly GuestBuffer[] _writable = new GuestBuffer[300];
    private readonly byte[] _header = new byte[16];
    private ulong _unique;

    public FuseClient(VhostUserFrontend frontend, VhostUserFrontendQueue queue, int maxData, int depth = 1)
    {
        _frontend = frontend;
        _queue = queue;
        Depth = depth;
        _request = new ulong[depth];
        _reply = new ulong[depth];
        _outArgs = new int[depth];
        for (int slot = 0; slot < depth; slot++)
        {
            _request[slot] = frontend.Allocator.Allocate((ulong)(maxData + Page), Page);
            _reply[slot] = frontend.Allocator.Allocate((ulong)(maxData + Page), Page);
        }
    }

    /// <summary>How many requests may be in flight.</summary>
    public int Depth { get; }

    public const uint Init = 26;
    public const uint Lookup = 1;
    public const uint Forget = 2;
    public const uint GetAttr = 3;
    public const uint Unlink = 10;
    public const uint Open = 14;
    public const uint Read = 15;
    public const uint Write = 16;
    public const uint Release = 18;
    public const uint Create = 35;

    /// <summary>Sends a request whose args are <paramref name="args"/> followed by <paramref name="dataLength"/> data bytes already at <see cref="DataAddress"/>; returns (error, payload length).</summary>
    public (int Error, int Length) Send(uint opcode, ulong nodeId, ReadOnlySpan<byte> args, int dataLength, int outArgs, int replyData)
    {
        Post(0, opcode, nodeId, args, dataLength, outArgs, replyData);
        (_, int error, int length) = WaitAny();
        return (error, length);
    }

    /// <summary>Posts a request from <paramref name="slot"/> (its data at <see cref="SlotData"/>); <see cref="WaitAny"/> takes its answer.</summary>
    public void Post(int slot, uint opcode, ulong nodeId, ReadOnlySpan<byte> args, int dataLength, int outArgs, int replyData)
    {
        Span<byte> header = stackalloc byte[40];
        header.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(header, (uint)(40 + args.Length + dataLength));
        BinaryPrimitives.WriteUInt32LittleEndian(header[4..], opcode);
        BinaryPrimitives.WriteUInt64LittleEndian(header[8..], _unique += 2);
        BinaryPrimitives.WriteUInt64LittleEndian(header[16..], nodeId);
        ulong request = _request[slot], reply = _reply[slot];
        _frontend.Memory.Write(request, header);
        _frontend.Memory.Write(request + 40, args);
        int readable = 0;
        _readable[readable++] = new GuestBuffer(request, 40);
        if (!args.IsEmpty)
        {
            _readable[readable++] = new GuestBuffer(request + 40, (uint)args.Length);
        }

        for (int offset = 0; offset < dataLength; offset += Page)
        {
            _readable[readable++] = new GuestBuffer(request + Page + (ulong)offset, (uint)Math.Min(Page, dataLength - offset));
        }

        int writable = 0;
        if (outArgs >= 0)
        {
            _writable[writable++] = new GuestBuffer(reply, 16);
            if (outArgs > 0)
            {
                _writable[writable++] = new GuestBuffer(reply + 16, (uint)outArgs);
            }

            for (int offset = 0; offset < replyData; offset += Page)
            {
                _writable[writable++] = new GuestBuffer(reply + Page + (ulong)offset, (uint)Math.Min(Page, replyData - offset));
            }
        }

        _outArgs[slot] = outArgs;
        _slotOfHead[_queue.Post(_readable.AsSpan(0, readable), _writable.AsSpan(0, writable))] = slot;
    }

    /// <summary>Waits for the next answer, whichever request it is; returns its slot, error and payload length.</summary>
    public (int Slot, int Error, int Length) WaitAny()
    {
        if (!_queue.WaitForUsed(s_timeout, out ushort head, out _))
        {
            throw new TimeoutException("A FUSE request got no answer.");
        }

        if (!_slotOfHead.Remove(head, out int slot))
        {
            throw new InvalidOperationException($"The back-end returned head {head}, which is not in flight.");
        }

        if (_outArgs[slot] < 0)
        {
            return (slot, 0, 0);
        }

        _frontend.Memory.Read(_reply[slot], _header);
        return (slot, BinaryPrimitives.ReadInt32LittleEndian(_header.AsSpan(4)), (int)BinaryPrimitives.ReadUInt32LittleEndian(_header) - 16);
    }

    /// <summary>Where WRITE data of <paramref name="slot"/> goes (page aligned, after a page of args).</summary>
    public ulong SlotData(int slot) => _request[slot] + Page;

    /// <summary>The out-args of <paramref name="slot"/>'s last answer.</summary>
    public byte[] ReplyArgs(int slot, int length)
    {
        byte[] bytes = new byte[length];
        _frontend.Memory.Read(_reply[slot] + 16, bytes);
        return bytes;
    }

    /// <summary>Where WRITE data goes (page aligned, after a page of args).</summary>
    public ulong DataAddress => SlotData(0);

    public byte[] ReplyArgs(int length) => ReplyArgs(0, length);

    public void Check((int Error, int Length) result, string what)
    {
        if (result.Error != 0)
        {
            throw new InvalidOperationException($"{what} failed with errno {-result.Error}.");
        }
    }

    public static byte[] Name(string name) => [.. Encoding.UTF8.GetBytes(name), 0];
}

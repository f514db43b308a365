using System.Buffers.Binary;
using System.Text;
using Vmm.Contracts.Virtio;
using Vmm.Testing.VhostUser;

namespace Vmm.FsBench;

/// <summary>
/// A minimal FUSE client over a vhost-user front-end, laying requests out as Linux 6.1's virtio_fs does: header,
/// packed args, one descriptor per 4 KiB data page; out-header, out-args, data pages. One request in flight.
/// </summary>
internal sealed class FuseClient
{
    private const int Page = 4096;
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);

    private readonly VhostUserFrontend _frontend;
    private readonly VhostUserFrontendQueue _queue;
    private readonly ulong _request;
    private readonly ulong _reply;
    private readonly GuestBuffer[] _readable = new GuestBuffer[300];
    private readonly GuestBuffer[] _writable = new GuestBuffer[300];
    private readonly byte[] _header = new byte[16];
    private ulong _unique;

    public FuseClient(VhostUserFrontend frontend, VhostUserFrontendQueue queue, int maxData)
    {
        _frontend = frontend;
        _queue = queue;
        _request = frontend.Allocator.Allocate((ulong)(maxData + Page), Page);
        _reply = frontend.Allocator.Allocate((ulong)(maxData + Page), Page);
    }

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
        Span<byte> header = stackalloc byte[40];
        header.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(header, (uint)(40 + args.Length + dataLength));
        BinaryPrimitives.WriteUInt32LittleEndian(header[4..], opcode);
        BinaryPrimitives.WriteUInt64LittleEndian(header[8..], _unique += 2);
        BinaryPrimitives.WriteUInt64LittleEndian(header[16..], nodeId);
        _frontend.Memory.Write(_request, header);
        _frontend.Memory.Write(_request + 40, args);
        int readable = 0;
        _readable[readable++] = new GuestBuffer(_request, 40);
        if (!args.IsEmpty)
        {
            _readable[readable++] = new GuestBuffer(_request + 40, (uint)args.Length);
        }

        for (int offset = 0; offset < dataLength; offset += Page)
        {
            _readable[readable++] = new GuestBuffer(DataAddress + (ulong)offset, (uint)Math.Min(Page, dataLength - offset));
        }

        int writable = 0;
        if (outArgs >= 0)
        {
            _writable[writable++] = new GuestBuffer(_reply, 16);
            if (outArgs > 0)
            {
                _writable[writable++] = new GuestBuffer(_reply + 16, (uint)outArgs);
            }

            for (int offset = 0; offset < replyData; offset += Page)
            {
                _writable[writable++] = new GuestBuffer(ReplyDataAddress + (ulong)offset, (uint)Math.Min(Page, replyData - offset));
            }
        }

        _queue.Post(_readable.AsSpan(0, readable), _writable.AsSpan(0, writable));
        if (!_queue.WaitForUsed(s_timeout, out _, out _))
        {
            throw new TimeoutException($"FUSE opcode {opcode} got no answer.");
        }

        if (outArgs < 0)
        {
            return (0, 0);
        }

        _frontend.Memory.Read(_reply, _header);
        return (BinaryPrimitives.ReadInt32LittleEndian(_header.AsSpan(4)), (int)BinaryPrimitives.ReadUInt32LittleEndian(_header) - 16);
    }

    /// <summary>Where WRITE data goes (page aligned, after a page of args).</summary>
    public ulong DataAddress => _request + Page;

    /// <summary>Where READ data comes back.</summary>
    public ulong ReplyDataAddress => _reply + Page;

    public byte[] ReplyArgs(int length)
    {
        byte[] bytes = new byte[length];
        _frontend.Memory.Read(_reply + 16, bytes);
        return bytes;
    }

    public void Check((int Error, int Length) result, string what)
    {
        if (result.Error != 0)
        {
            throw new InvalidOperationException($"{what} failed with errno {-result.Error}.");
        }
    }

    public static byte[] Name(string name) => [.. Encoding.UTF8.GetBytes(name), 0];
}

using System.Buffers.Binary;
using System.Text;
using Microsoft.Win32.SafeHandles;
using Vmm.Plugins.CrossDomain.Testing.Native;
using static Vmm.Plugins.CrossDomain.Testing.CrossDomainCommands;

namespace Vmm.Plugins.CrossDomain.Testing.X11;

/// <summary>
/// Client to host: the request stream is framed (setup, then core lengths or BIG-REQUESTS lengths) so the bridge can
/// count sequence numbers and act on the few requests it must: QueryExtension (to learn MIT-SHM's opcode) and the
/// MIT-SHM requests whose memory or descriptors the host cannot reach. Everything else streams through untouched,
/// SENT in chunks of at most <see cref="CrossDomainCommands.MaxSendData"/> bytes.
/// </summary>
internal sealed partial class X11BridgeClient
{
    private const byte QueryExtensionOpcode = 98;
    private const byte ShmQueryVersion = 0, ShmAttach = 1, ShmDetach = 2, ShmPutImage = 3, ShmGetImage = 4, ShmAttachFd = 6, ShmCreateSegment = 7;

    private readonly List<byte> _requestBytes = [];
    private readonly List<byte> _outgoing = [];
    private bool _setupSeen;
    private bool _rawStream;
    private long _passThrough;
    private ushort _sequence;

    private void FromClient(ReadOnlySpan<byte> data, Queue<SafeFileHandle> fds)
    {
        _requestBytes.AddRange(data);
        int position = 0;
        while (position < _requestBytes.Count)
        {
            int available = _requestBytes.Count - position;
            if (_rawStream || _passThrough > 0)
            {
                int take = _rawStream ? available : (int)Math.Min(_passThrough, available);
                _outgoing.AddRange(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_requestBytes).Slice(position, take));
                position += take;
                _passThrough -= _rawStream ? 0 : take;
                continue;
            }

            Span<byte> bytes = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_requestBytes)[position..];
            if (!_setupSeen)
            {
                if (available < 12)
                {
                    break;
                }

                // Only little-endian clients are parsed (as muvm's bridge); others are passed on unread.
                _rawStream = bytes[0] != (byte)'l';
                _setupSeen = true;
                _passThrough = 12 + Pad(BinaryPrimitives.ReadUInt16LittleEndian(bytes[6..])) + Pad(BinaryPrimitives.ReadUInt16LittleEndian(bytes[8..]));
                continue;
            }

            if (available < 4)
            {
                break;
            }

            long length = BinaryPrimitives.ReadUInt16LittleEndian(bytes[2..]) * 4L;
            if (length == 0)
            {
                if (available < 8)
                {
                    break;
                }

                length = BinaryPrimitives.ReadUInt32LittleEndian(bytes[4..]) * 4L;
                if (length < 8)
                {
                    throw new InvalidDataException($"a BIG-REQUESTS length of {length} bytes");
                }
            }

            byte opcode = bytes[0];
            bool intercepted = opcode == QueryExtensionOpcode || (opcode == Volatile.Read(ref _shmMajor) && opcode != 0);
            if (!intercepted)
            {
                _sequence++;
                _passThrough = length;
                continue;
            }

            if (available < length)
            {
                break;
            }

            _sequence++;
            Intercept(bytes[..(int)length], fds);
            position += (int)length;
        }

        _requestBytes.RemoveRange(0, position);
        Flush([]);
    }

    private void Intercept(ReadOnlySpan<byte> request, Queue<SafeFileHandle> fds)
    {
        if (request[0] == QueryExtensionOpcode)
        {
            int nameLength = Math.Min(BinaryPrimitives.ReadUInt16LittleEndian(request[4..]), request.Length - 8);
            Track(new PendingReply(ReplyKind.QueryExtension, Extension: Encoding.ASCII.GetString(request.Slice(8, nameLength))));
            _outgoing.AddRange(request);
            return;
        }

        switch (request[1])
        {
            case ShmQueryVersion:
                Track(new PendingReply(ReplyKind.ShmQueryVersion));
                break;
            case ShmAttach when request.Length >= 16:
                AttachSysV(request);
                return;
            case ShmAttachFd when request.Length >= 12:
                if (!fds.TryDequeue(out SafeFileHandle? fd))
                {
                    throw new InvalidDataException("ShmAttachFd came without a descriptor");
                }

                using (fd)
                {
                    (nint address, long length) = ShmShadow.MapClientFile(fd);
                    AttachShadow(request, BinaryPrimitives.ReadUInt32LittleEndian(request[4..]), address, length, sysV: false);
                }

                return;
            case ShmDetach when request.Length >= 8:
                _outgoing.AddRange(request);
                Flush([]);
                lock (_state)
                {
                    if (_segments.Remove(BinaryPrimitives.ReadUInt32LittleEndian(request[4..]), out ShmShadow? detached))
                    {
                        detached.Dispose();
                    }
                }

                return;
            case ShmPutImage when request.Length >= 40:
                CopyForPutImage(request);
                break;
            case ShmGetImage when request.Length >= 32:
                Track(new PendingReply(ReplyKind.ShmGetImage, BinaryPrimitives.ReadUInt32LittleEndian(request[24..]), BinaryPrimitives.ReadUInt32LittleEndian(request[28..])));
                break;
            case ShmCreateSegment when request.Length >= 16:
                Track(new PendingReply(ReplyKind.ShmCreateSegment, BinaryPrimitives.ReadUInt32LittleEndian(request[4..])));
                break;
        }

        _outgoing.AddRange(request);
    }

    /// <summary>ShmAttach (SysV id): the bridge attaches the id itself and sends the server ShmAttachFd for a host blob instead.</summary>
    private void AttachSysV(ReadOnlySpan<byte> request)
    {
        uint segment = BinaryPrimitives.ReadUInt32LittleEndian(request[4..]);
        bool readOnly = request[12] != 0;
        (nint address, long length) = GuestFd.AttachSysV((int)BinaryPrimitives.ReadUInt32LittleEndian(request[8..]), readOnly);
        // Same request count, so sequence numbers stay aligned: ShmAttachFd is 12 bytes (segment, read-only).
        Span<byte> attachFd = stackalloc byte[12];
        attachFd[0] = request[0];
        attachFd[1] = ShmAttachFd;
        BinaryPrimitives.WriteUInt16LittleEndian(attachFd[2..], 3);
        BinaryPrimitives.WriteUInt32LittleEndian(attachFd[4..], segment);
        attachFd[8] = readOnly ? (byte)1 : (byte)0;
        AttachShadow(attachFd, segment, address, length, sysV: true);
    }

    private void AttachShadow(ReadOnlySpan<byte> attachFd, uint segment, nint address, long length, bool sysV)
    {
        HostBlob blob;
        try
        {
            blob = HostBlob.Allocate(_channel, (ulong)length);
        }
        catch
        {
            if (sysV)
            {
                GuestFd.DetachSysV(address);
            }
            else
            {
                GuestFd.Unmap(address, length);
            }

            throw;
        }

        var shadow = new ShmShadow(address, length, sysV, blob);
        shadow.ToHost(0, length);
        lock (_state)
        {
            if (_segments.Remove(segment, out ShmShadow? stale))
            {
                stale.Dispose();
            }

            _segments[segment] = shadow;
        }

        // The descriptor must reach the server with this request: flush what came before, then SEND it alone.
        Flush([]);
        _outgoing.AddRange(attachFd);
        Flush([(blob.ResourceId, IdVirtgpuBlob)]);
    }

    /// <summary>ShmPutImage: copies the rows the server will read from the client's segment into the host blob.</summary>
    private void CopyForPutImage(ReadOnlySpan<byte> request)
    {
        ushort totalWidth = BinaryPrimitives.ReadUInt16LittleEndian(request[12..]);
        ushort totalHeight = BinaryPrimitives.ReadUInt16LittleEndian(request[14..]);
        ushort sourceY = BinaryPrimitives.ReadUInt16LittleEndian(request[18..]);
        ushort sourceHeight = BinaryPrimitives.ReadUInt16LittleEndian(request[22..]);
        byte depth = request[28];
        byte format = request[29];
        uint segment = BinaryPrimitives.ReadUInt32LittleEndian(request[32..]);
        long offset = BinaryPrimitives.ReadUInt32LittleEndian(request[36..]);
        lock (_state)
        {
            if (!_segments.TryGetValue(segment, out ShmShadow? shadow))
            {
                return; // The server answers BadShmSeg.
            }

            if (format == 2 && _pixmapFormats.TryGetValue(depth, out (int BitsPerPixel, int Pad) zFormat))
            {
                long stride = ((((long)totalWidth * zFormat.BitsPerPixel) + zFormat.Pad - 1) / zFormat.Pad) * zFormat.Pad / 8;
                shadow.ToHost(offset + (sourceY * stride), sourceHeight * stride);
            }
            else
            {
                // XY formats (a plane after another): copy every row of the whole image.
                long stride = ((totalWidth + 31L) / 32) * 4;
                shadow.ToHost(offset, stride * totalHeight * Math.Max((int)depth, 1));
            }
        }
    }

    private void Track(PendingReply reply)
    {
        lock (_state)
        {
            _replies[_sequence] = reply;
        }
    }

    /// <summary>SENDs what has gathered, with <paramref name="identifiers"/> on its first chunk, without waiting for the device's answers.</summary>
    private void Flush(ReadOnlySpan<(uint Id, uint Type)> identifiers)
    {
        if (_outgoing.Count == 0)
        {
            return;
        }

        _channel.Forward(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_outgoing), identifiers);
        _outgoing.Clear();
    }

    private static long Pad(int length) => (length + 3) & ~3;
}

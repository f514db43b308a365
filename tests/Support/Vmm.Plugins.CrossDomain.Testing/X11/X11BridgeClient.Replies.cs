using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using Vmm.Plugins.CrossDomain.Testing.Native;
using static Vmm.Plugins.CrossDomain.Testing.CrossDomainCommands;

namespace Vmm.Plugins.CrossDomain.Testing.X11;

/// <summary>
/// Host to client: RECEIVE data is framed (setup reply, then 32-byte messages, replies and GenericEvents with their
/// bodies) so that replies to tracked requests are acted on before the client sees them. A message header that is
/// not complete yet is held back until the next RECEIVE. Identifiers become descriptors for the client: a host blob
/// is imported, mapped and copied into a memfd of the client's own.
/// </summary>
internal sealed partial class X11BridgeClient
{
    private readonly List<byte> _replyBytes = [];
    private readonly Dictionary<byte, (int BitsPerPixel, int Pad)> _pixmapFormats = [];
    private readonly List<HostImport> _imports = [];
    private readonly List<SafeFileHandle> _clientFds = [];
    private bool _setupReplySeen;
    private long _replyBody;

    /// <summary>Handles one channel-ring message; false when the host hung up.</summary>
    private bool FromHost(byte[] message)
    {
        if (message[0] != CmdReceive)
        {
            // FUTEX_SIGNAL and READ belong to futexes and pipes this bridge never creates.
            return true;
        }

        ChannelMessage.Receive receive = ChannelMessage.ParseReceive(message);
        if (receive.Data.Length == 0)
        {
            return false;
        }

        List<HostImport> older;
        lock (_state)
        {
            older = [.. _imports.Where(import => !import.Claimed)];
            foreach ((uint id, uint type, uint size) in receive.Identifiers)
            {
                _clientFds.Add(Translate(id, type, size));
            }
        }

        _replyBytes.AddRange(receive.Data);
        int ready = FrameReplies();
        if (ready > 0)
        {
            _client.Send(CollectionsMarshal.AsSpan(_replyBytes)[..ready], CollectionsMarshal.AsSpan(_clientFds));
            _replyBytes.RemoveRange(0, ready);
            foreach (SafeFileHandle fd in _clientFds)
            {
                fd.Dispose();
            }

            _clientFds.Clear();
        }

        // Blobs that came earlier and no reply claimed as a segment were copies only: free them.
        lock (_state)
        {
            foreach (HostImport import in older.Where(import => !import.Claimed))
            {
                _imports.Remove(import);
                import.Dispose();
            }
        }

        return true;
    }

    /// <summary>Walks whole headers, acting on tracked replies; returns how many bytes can go to the client.</summary>
    private int FrameReplies()
    {
        Span<byte> bytes = CollectionsMarshal.AsSpan(_replyBytes);
        int position = 0;
        while (position < bytes.Length)
        {
            if (_replyBody > 0)
            {
                int take = (int)Math.Min(_replyBody, bytes.Length - position);
                position += take;
                _replyBody -= take;
                continue;
            }

            if (!_setupReplySeen)
            {
                if (bytes.Length - position < 8)
                {
                    break;
                }

                int setupLength = 8 + (4 * BinaryPrimitives.ReadUInt16LittleEndian(bytes[(position + 6)..]));
                if (bytes.Length - position < setupLength)
                {
                    break;
                }

                ReadPixmapFormats(bytes.Slice(position, setupLength));
                _setupReplySeen = true;
                position += setupLength;
                continue;
            }

            if (_rawStream || bytes.Length - position < 32)
            {
                position = _rawStream ? bytes.Length : position;
                break;
            }

            Span<byte> header = bytes.Slice(position, 32);
            byte type = (byte)(header[0] & 0x7F);
            if (type is 0 or 1)
            {
                OnReply(header, isError: type == 0);
            }

            position += 32;
            _replyBody = type is 1 or 35 ? BinaryPrimitives.ReadUInt32LittleEndian(header[4..]) * 4L : 0;
        }

        return position;
    }

    private void OnReply(Span<byte> header, bool isError)
    {
        ushort sequence = BinaryPrimitives.ReadUInt16LittleEndian(header[2..]);
        PendingReply pending;
        lock (_state)
        {
            if (!_replies.Remove(sequence, out pending))
            {
                return;
            }
        }

        if (isError)
        {
            return;
        }

        switch (pending.Kind)
        {
            case ReplyKind.QueryExtension when pending.Extension == "MIT-SHM" && header[8] != 0:
                Volatile.Write(ref _shmMajor, header[9]);
                break;
            case ReplyKind.ShmQueryVersion:
                // Shared pixmaps would need the two copies kept in step all the time: tell the client there are none.
                header[1] = 0;
                break;
            case ReplyKind.ShmGetImage:
                lock (_state)
                {
                    if (_segments.TryGetValue(pending.Segment, out ShmShadow? shadow))
                    {
                        shadow.ToClient(pending.Offset, BinaryPrimitives.ReadUInt32LittleEndian(header[12..]));
                    }
                }

                break;
            case ReplyKind.ShmCreateSegment when header[1] == 1:
                ClaimSegment(pending.Segment);
                break;
        }
    }

    /// <summary>ShmCreateSegment's reply: the oldest unclaimed host blob is that segment; the client has its memfd.</summary>
    private void ClaimSegment(uint segment)
    {
        lock (_state)
        {
            HostImport? import = _imports.FirstOrDefault(candidate => !candidate.Claimed && candidate.ClientFile is not null);
            if (import is null)
            {
                return;
            }

            import.Claimed = true;
            (nint address, long length) = ShmShadow.MapClientFile(import.ClientFile!);
            if (_segments.Remove(segment, out ShmShadow? stale))
            {
                stale.Dispose();
            }

            _segments[segment] = new ShmShadow(address, length, sysV: false, import.TakeBlob());
            _imports.Remove(import);
            import.Dispose();
        }
    }

    /// <summary>An identifier from the host becomes a descriptor for the client.</summary>
    private SafeFileHandle Translate(uint id, uint type, uint size)
    {
        if (type == IdVirtgpuBlob && size > 0)
        {
            HostBlob blob = HostBlob.Import(_channel, id, size);
            SafeFileHandle file = GuestFd.CreateMemfd("x11bridge-shm", size);
            var import = new HostImport(blob, GuestFd.Map(file, size, writable: true), size, file);
            unsafe
            {
                Buffer.MemoryCopy((void*)blob.Address, (void*)import.ClientAddress, size, size);
            }

            _imports.Add(import);
            return GuestFd.Duplicate(file);
        }

        // Pipes and eventfds from an X server: nothing here speaks for them; the client gets an empty memfd.
        Fault($"context {_channel.ContextId}: identifier {id} of type {type} has no guest counterpart here");
        return GuestFd.CreateMemfd("x11bridge-unsupported", 0);
    }

    private void ReadPixmapFormats(ReadOnlySpan<byte> setup)
    {
        if (setup[0] != 1 || setup.Length < 40)
        {
            return;
        }

        int vendorLength = BinaryPrimitives.ReadUInt16LittleEndian(setup[24..]);
        int formats = setup[29];
        int at = 40 + (int)Pad(vendorLength);
        lock (_state)
        {
            for (int i = 0; i < formats && at + 8 <= setup.Length; i++, at += 8)
            {
                _pixmapFormats[setup[at]] = (setup[at + 1], Math.Max((int)setup[at + 2], 8));
            }
        }
    }

    /// <summary>A host blob the server sent, with the client's copy of it.</summary>
    private sealed class HostImport(HostBlob blob, nint clientAddress, long clientLength, SafeFileHandle clientFile) : IDisposable
    {
        private HostBlob? _blob = blob;

        public nint ClientAddress { get; } = clientAddress;

        public SafeFileHandle? ClientFile { get; private set; } = clientFile;

        public bool Claimed { get; set; }

        public HostBlob TakeBlob()
        {
            HostBlob taken = _blob!;
            _blob = null;
            return taken;
        }

        public void Dispose()
        {
            if (ClientFile is null)
            {
                return;
            }

            GuestFd.Unmap(ClientAddress, clientLength);
            ClientFile.Dispose();
            ClientFile = null;
            _blob?.Dispose();
            _blob = null;
        }
    }
}

using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;
using Vmm.Contracts.Virtio;
using Vmm.Plugins.VirtioFs.Fuse;
using Vmm.Plugins.VirtioFs.Host;

namespace Vmm.Plugins.VirtioFs.Server;

internal sealed partial class FuseSession
{
    private const int DirentPlusHeaderSize = FuseProtocol.EntryOutSize + FuseProtocol.DirentHeaderSize;

    /// <summary>
    /// READDIR / READDIRPLUS from the cookie in read_in.offset (a getdents64 d_off). Each PLUS entry but "." and
    /// ".." is a counted lookup, done only once the record is known to fit.
    /// </summary>
    private FuseResult ReadDir(ref FuseArgs args, DescriptorChain chain, bool plus)
    {
        if (!args.TryRead(out FuseReadIn read))
        {
            return Fail(Errno.EINVAL);
        }

        (ulong fh, ulong offset, uint size) = (read.FileHandle, read.Offset, read.Size);

        if (!_handles.TryGet(fh, out OpenHandle handle) || !handle.IsDirectory)
        {
            return Fail(Errno.EBADF);
        }

        if (offset > long.MaxValue)
        {
            return Fail(Errno.EINVAL);
        }

        if (handle.Inode.IsKernelInterface)
        {
            return ReplyEmpty();
        }

        // Two queues reading one directory handle would race on its getdents position.
        lock (handle.Sync)
        {
            return FuseResult.Payload(ReadDirLocked(handle, offset, size, chain, plus));
        }
    }

    private int ReadDirLocked(OpenHandle handle, ulong offset, uint size, DescriptorChain chain, bool plus)
    {
        int capacity = (int)Math.Min(Math.Min(size, (uint)ReplyPayloadCapacity), Math.Max(chain.WritableLength - FuseProtocol.OutHeaderSize, 0));
        Span<byte> reply = Payload[..capacity];
        int used = 0;
        long cookie = (long)offset;
        while (true)
        {
            int count = HostFileSystem.ReadDirectory(handle.File, cookie, _dirents);
            if (count == 0)
            {
                return used;
            }

            ReadOnlySpan<byte> records = _dirents.AsSpan(0, count);
            while (records.Length >= 19)
            {
                ulong hostInode = BinaryPrimitives.ReadUInt64LittleEndian(records);
                long next = BinaryPrimitives.ReadInt64LittleEndian(records[8..]);
                int recordLength = BinaryPrimitives.ReadUInt16LittleEndian(records[16..]);
                byte type = records[18];
                if (recordLength < 19 || recordLength > records.Length)
                {
                    return used;
                }

                ReadOnlySpan<byte> name = records[19..recordLength];
                int end = name.IndexOf((byte)0);
                name = end >= 0 ? name[..end] : name;
                records = records[recordLength..];

                int direntSize = Align8(FuseProtocol.DirentHeaderSize + name.Length);
                int recordSize = plus ? FuseProtocol.EntryOutSize + direntSize : direntSize;
                if (used + recordSize > capacity)
                {
                    return used;
                }

                Span<byte> record = reply.Slice(used, recordSize);
                record.Clear();
                if (plus && !WriteDirectoryEntry(handle.Inode, name, hostInode, type, record))
                {
                    // Gone between getdents and the lookup: leave it out.
                    cookie = next;
                    continue;
                }

                Span<byte> dirent = plus ? record[FuseProtocol.EntryOutSize..] : record;
                Write(dirent, new FuseDirent { Inode = hostInode, Offset = (ulong)next, NameLength = (uint)name.Length, Type = type });
                name.CopyTo(dirent[FuseProtocol.DirentHeaderSize..]);
                used += recordSize;
                cookie = next;
            }
        }
    }

    /// <summary>The entry_out part of a direntplus record; false when the name no longer resolves.</summary>
    private bool WriteDirectoryEntry(Inode directory, ReadOnlySpan<byte> name, ulong hostInode, byte type, Span<byte> record)
    {
        if (NameRules.IsDot(name) || NameRules.IsDotDot(name))
        {
            // Node id 0: the guest links neither, so no lookup is counted (FUSE's convention, as virtiofsd does).
            Write(record, new FuseEntryOut { Attr = new FuseAttr { Inode = hostInode, Mode = (uint)type << 12 } });
            return true;
        }

        if (NameRules.Validate(name) != 0)
        {
            return false;
        }

        if (HostFileSystem.TryOpenPathBeneath(directory.Handle, name, out SafeFileHandle? entry) != 0)
        {
            return false;
        }

        try
        {
            return !ReplyEntry(entry!, record).IsError;
        }
        catch (NativeCallException)
        {
            return false;
        }
    }

    private static int Align8(int value) => (value + 7) & ~7;
}

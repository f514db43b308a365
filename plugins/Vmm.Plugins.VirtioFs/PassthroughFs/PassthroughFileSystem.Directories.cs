using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;
using Vmm.Plugins.VirtioFs.Host;
using Vmm.Plugins.VirtioFs.Server;

namespace Vmm.Plugins.VirtioFs.PassthroughFs;

/// <summary>READDIR and READDIRPLUS over getdents64, resuming at its d_off cookies.</summary>
internal sealed partial class PassthroughFileSystem
{
    /// <summary>The fixed part of a linux_dirent64: d_ino, d_off, d_reclen, d_type; the name follows.</summary>
    private const int HostDirentHeaderSize = 19;

    [ThreadStatic]
    private static byte[]? t_dirents;

    /// <summary>
    /// Lists from the cookie <paramref name="offset"/> (a getdents64 d_off). Each PLUS entry but "." and ".." is a
    /// counted lookup, done only once the record is known to fit.
    /// </summary>
    public FuseError ReadDir(in FuseContext context, ulong fileHandle, ulong offset, ref FuseDirectoryWriter entries)
    {
        if (!_handles.TryGet(fileHandle, out OpenHandle handle) || !handle.IsDirectory)
        {
            return Fail(Errno.EBADF);
        }

        if (offset > long.MaxValue)
        {
            return Fail(Errno.EINVAL);
        }

        if (handle.Inode.IsKernelInterface)
        {
            return FuseError.None;
        }

        // Two queues reading one directory handle would race on its getdents position.
        lock (handle.Sync)
        {
            ReadDirLocked(handle, (long)offset, ref entries);
        }

        return FuseError.None;
    }

    private void ReadDirLocked(OpenHandle handle, long cookie, ref FuseDirectoryWriter entries)
    {
        byte[] dirents = t_dirents ??= new byte[32 * 1024];
        while (true)
        {
            int count = HostFileSystem.ReadDirectory(handle.File, cookie, dirents);
            if (count == 0)
            {
                return;
            }

            ReadOnlySpan<byte> records = dirents.AsSpan(0, count);
            while (records.Length >= HostDirentHeaderSize)
            {
                ulong hostInode = BinaryPrimitives.ReadUInt64LittleEndian(records);
                long next = BinaryPrimitives.ReadInt64LittleEndian(records[8..]);
                int recordLength = BinaryPrimitives.ReadUInt16LittleEndian(records[16..]);
                byte type = records[18];
                if (recordLength < HostDirentHeaderSize || recordLength > records.Length)
                {
                    return;
                }

                ReadOnlySpan<byte> name = records[HostDirentHeaderSize..recordLength];
                int end = name.IndexOf((byte)0);
                name = end >= 0 ? name[..end] : name;
                records = records[recordLength..];
                if (!entries.Fits(name.Length))
                {
                    return;
                }

                FuseEntry entry = default;
                if (entries.IsPlus && !TryLookupListed(handle.Inode, name, hostInode, type, out entry))
                {
                    // Gone between getdents and the lookup: leave it out.
                    cookie = next;
                    continue;
                }

                entries.Add(hostInode, (ulong)next, type, name, entry);
                cookie = next;
            }
        }
    }

    /// <summary>The entry of a direntplus record; false when the name no longer resolves.</summary>
    private bool TryLookupListed(Inode directory, ReadOnlySpan<byte> name, ulong hostInode, byte type, out FuseEntry entry)
    {
        if (NameRules.IsDot(name) || NameRules.IsDotDot(name))
        {
            // Node id 0: the guest links neither, so no lookup is counted (FUSE's convention, as virtiofsd does).
            entry = new FuseEntry(0, new FuseAttr { Inode = hostInode, Mode = (uint)type << 12 }, 0);
            return true;
        }

        entry = default;
        if (NameRules.Validate(name) != 0 || HostFileSystem.TryOpenPathBeneath(directory.Handle, name, out SafeFileHandle? found) != 0)
        {
            return false;
        }

        try
        {
            FuseResult<FuseEntry> counted = CountLookup(found!);
            entry = counted.Value;
            return !counted.IsError;
        }
        catch (NativeCallException)
        {
            return false;
        }
    }
}

using Microsoft.Win32.SafeHandles;
using Vmm.Plugins.VirtioFs.Fuse;
using Vmm.Plugins.VirtioFs.Host;

namespace Vmm.Plugins.VirtioFs.Server;

internal sealed partial class FuseSession
{
    private static ulong PageMask => (ulong)Environment.SystemPageSize - 1;

    /// <summary>
    /// SETUPMAPPING maps a file range into the DAX window. 6.1 sends fh = ~0 (never a real handle), so the file
    /// is the node's, reopened here; the mapping keeps it alive after the handle closes. Re-mapping the same
    /// window range (a read mapping upgraded to write) simply replaces it.
    /// </summary>
    private int SetupMapping(in FuseInHeader header, ref FuseArgs args)
    {
        if (!args.TryReadUInt64(out _) || !args.TryReadUInt64(out ulong fileOffset) || !args.TryReadUInt64(out ulong length)
            || !args.TryReadUInt64(out ulong flags) || !args.TryReadUInt64(out ulong windowOffset))
        {
            return -Errno.EINVAL;
        }

        if (_window is null)
        {
            return -Errno.ENOSYS;
        }

        if (!TryGetInode(header.NodeId, out Inode inode))
        {
            return -Errno.ENOENT;
        }

        if (!inode.IsRegularFile)
        {
            return -Errno.EINVAL;
        }

        bool writable = (flags & FuseProtocol.SetupMappingWrite) != 0;
        if (writable && _readOnly)
        {
            return -Errno.EROFS;
        }

        if (!IsWindowRange(windowOffset, length) || (fileOffset & PageMask) != 0 || fileOffset > (ulong)long.MaxValue - length)
        {
            return -Errno.EINVAL;
        }

        using SafeFileHandle file = HostFileSystem.Reopen(_procSelfFd, inode.Handle, writable ? HostFileSystem.ReadWriteFlags : HostFileSystem.ReadOnlyFlags);
        _window.MapFile(windowOffset, file, (long)fileOffset, length, writable);
        return ReplyEmpty();
    }

    /// <summary>REMOVEMAPPING: removemapping_in{count} (4 bytes) then count × {moffset, len}, unaligned.</summary>
    private int RemoveMapping(ref FuseArgs args)
    {
        if (!args.TryReadUInt32(out uint count) || (ulong)count * FuseProtocol.RemoveMappingOneSize > (ulong)args.Remaining)
        {
            return -Errno.EINVAL;
        }

        if (_window is null)
        {
            return -Errno.ENOSYS;
        }

        for (uint i = 0; i < count; i++)
        {
            args.TryReadUInt64(out ulong windowOffset);
            args.TryReadUInt64(out ulong length);
            if (!IsWindowRange(windowOffset, length))
            {
                return -Errno.EINVAL;
            }

            _window.Unmap(windowOffset, length);
        }

        return ReplyEmpty();
    }

    private bool IsWindowRange(ulong offset, ulong length)
        => _window is not null && length != 0 && ((offset | length) & PageMask) == 0 && offset <= _window.Size && length <= _window.Size - offset;

    /// <summary>Puts the inaccessible reservation back over the whole window (new session, DESTROY, reset).</summary>
    private void ClearWindow() => _window?.Unmap(0, _window.Size);
}

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
    private FuseResult SetupMapping(in FuseInHeader header, ref FuseArgs args)
    {
        if (!args.TryRead(out FuseSetupMappingIn mapping))
        {
            return Fail(Errno.EINVAL);
        }

        (ulong fileOffset, ulong length, ulong flags, ulong windowOffset) = (mapping.FileOffset, mapping.Length, mapping.Flags, mapping.WindowOffset);

        if (_window is null)
        {
            return Fail(Errno.ENOSYS);
        }

        if (!TryGetInode(header.NodeId, out Inode inode))
        {
            return Fail(Errno.ENOENT);
        }

        if (!inode.IsRegularFile)
        {
            return Fail(Errno.EINVAL);
        }

        bool writable = (flags & FuseProtocol.SetupMappingWrite) != 0;
        if (writable && _readOnly)
        {
            return Fail(Errno.EROFS);
        }

        if (!IsWindowRange(windowOffset, length) || (fileOffset & PageMask) != 0 || fileOffset > (ulong)long.MaxValue - length)
        {
            return Fail(Errno.EINVAL);
        }

        using SafeFileHandle file = HostFileSystem.Reopen(_procSelfFd, inode.Handle, writable ? HostFileSystem.ReadWriteFlags : HostFileSystem.ReadOnlyFlags);
        _window.MapFile(windowOffset, file, (long)fileOffset, length, writable);
        return ReplyEmpty();
    }

    /// <summary>REMOVEMAPPING: removemapping_in{count} (4 bytes) then count × {moffset, len}, unaligned.</summary>
    private FuseResult RemoveMapping(ref FuseArgs args)
    {
        if (!args.TryRead(out FuseRemoveMappingIn removal) || (ulong)removal.Count * FuseProtocol.RemoveMappingOneSize > (ulong)args.Remaining)
        {
            return Fail(Errno.EINVAL);
        }

        if (_window is null)
        {
            return Fail(Errno.ENOSYS);
        }

        for (uint i = 0; i < removal.Count; i++)
        {
            args.TryRead(out FuseRemoveMappingOne one);
            if (!IsWindowRange(one.WindowOffset, one.Length))
            {
                return Fail(Errno.EINVAL);
            }

            _window.Unmap(one.WindowOffset, one.Length);
        }

        return ReplyEmpty();
    }

    private bool IsWindowRange(ulong offset, ulong length)
        => _window is not null && length != 0 && ((offset | length) & PageMask) == 0 && offset <= _window.Size && length <= _window.Size - offset;

    /// <summary>Puts the inaccessible reservation back over the whole window (new session, DESTROY, reset).</summary>
    private void ClearWindow() => _window?.Unmap(0, _window.Size);
}

using Microsoft.Win32.SafeHandles;
using Vmm.Plugins.VirtioFs.Host;
using Vmm.Plugins.VirtioFs.Server;

namespace Vmm.Plugins.VirtioFs.PassthroughFs;

/// <summary>SETATTR: mode, owner, size and times, in the order the kernel applies them.</summary>
internal sealed partial class PassthroughFileSystem
{
    private const uint AttributeChanges = FuseProtocol.FattrMode | FuseProtocol.FattrUid | FuseProtocol.FattrGid | FuseProtocol.FattrSize
        | FuseProtocol.FattrAtime | FuseProtocol.FattrMtime | FuseProtocol.FattrAtimeNow | FuseProtocol.FattrMtimeNow;

    public FuseResult<FuseAttributes> SetAttr(in FuseContext context, ulong nodeId, in FuseSetAttrIn changes)
    {
        if (!TryGetInode(nodeId, out Inode inode))
        {
            return Fail(Errno.ENOENT);
        }

        uint valid = changes.Valid;
        if (_readOnly && (valid & AttributeChanges) != 0)
        {
            return Fail(Errno.EROFS);
        }

        if ((valid & AttributeChanges) != 0 && inode.IsKernelInterface)
        {
            return Fail(Errno.EPERM);
        }

        if ((valid & FuseProtocol.FattrSize) != 0)
        {
            int error = Truncate(inode, valid, changes.FileHandle, changes.Size);
            if (error != 0)
            {
                return Fail(error);
            }
        }

        if ((valid & FuseProtocol.FattrMode) != 0)
        {
            HostFileSystem.ChangeMode(_procSelfFd, inode.Handle, SanitizeMode(changes.Mode, inode.IsDirectory));
        }

        if ((valid & (FuseProtocol.FattrUid | FuseProtocol.FattrGid)) != 0)
        {
            uint uid = uint.MaxValue;
            uint gid = uint.MaxValue;
            if ((valid & FuseProtocol.FattrUid) != 0 && !_uids.TryToHost(changes.Uid, out uid))
            {
                return Fail(Errno.EINVAL);
            }

            if ((valid & FuseProtocol.FattrGid) != 0 && !_gids.TryToHost(changes.Gid, out gid))
            {
                return Fail(Errno.EINVAL);
            }

            HostFileSystem.ChangeOwner(inode.Handle, uid, gid);
        }

        if ((valid & FuseProtocol.FattrKillSuidgid) != 0 && (valid & FuseProtocol.FattrMode) == 0
            && (valid & (FuseProtocol.FattrSize | FuseProtocol.FattrUid | FuseProtocol.FattrGid)) != 0 && inode.IsRegularFile)
        {
            // Truncate or chown by a caller without CAP_FSETID (KILLPRIV_V2).
            KillSetIds(inode.Handle);
        }

        if ((valid & (FuseProtocol.FattrAtime | FuseProtocol.FattrMtime | FuseProtocol.FattrAtimeNow | FuseProtocol.FattrMtimeNow)) != 0)
        {
            HostFileTime access = TimeFrom(valid, FuseProtocol.FattrAtime, FuseProtocol.FattrAtimeNow, changes.AccessSeconds, changes.AccessNanoseconds);
            HostFileTime modify = TimeFrom(valid, FuseProtocol.FattrMtime, FuseProtocol.FattrMtimeNow, changes.ModifySeconds, changes.ModifyNanoseconds);
            HostFileSystem.SetTimes(_procSelfFd, inode.Handle, inode.IsSymlink, access, modify);
        }

        return AttributesOf(inode);
    }

    private int Truncate(Inode inode, uint valid, ulong fileHandle, ulong size)
    {
        if (size > long.MaxValue)
        {
            return Errno.EINVAL;
        }

        if ((valid & FuseProtocol.FattrFh) != 0)
        {
            if (!_handles.TryGet(fileHandle, out OpenHandle open) || open.IsDirectory || open.Inode != inode)
            {
                return Errno.EBADF;
            }

            HostFileSystem.Truncate(open.File, (long)size);
            return 0;
        }

        if (!inode.IsRegularFile)
        {
            return inode.IsDirectory ? Errno.EISDIR : Errno.EINVAL;
        }

        using SafeFileHandle file = HostFileSystem.Reopen(_procSelfFd, inode.Handle, HostFileSystem.WriteOnlyFlags);
        HostFileSystem.Truncate(file, (long)size);
        return 0;
    }

    private static HostFileTime TimeFrom(uint valid, uint setBit, uint nowBit, ulong seconds, uint nanoseconds)
    {
        if ((valid & nowBit) != 0)
        {
            return HostFileTime.CurrentTime;
        }

        if ((valid & setBit) == 0 || nanoseconds >= 1_000_000_000)
        {
            return HostFileTime.Unchanged;
        }

        return new HostFileTime((long)seconds, nanoseconds, Now: false, Omit: false);
    }
}

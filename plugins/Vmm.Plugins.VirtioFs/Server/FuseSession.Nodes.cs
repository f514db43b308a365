using Microsoft.Win32.SafeHandles;
using Vmm.Plugins.VirtioFs.Fuse;
using Vmm.Plugins.VirtioFs.Host;

namespace Vmm.Plugins.VirtioFs.Server;

internal sealed partial class FuseSession
{
    private FuseResult Lookup(in FuseInHeader header, ref FuseArgs args)
    {
        if (!args.TryReadString(out ReadOnlySpan<byte> name))
        {
            return Fail(Errno.EINVAL);
        }

        int error = GetDirectory(header.NodeId, out Inode parent);
        if (error != 0)
        {
            return Fail(error);
        }

        if (NameRules.IsDot(name) || NameRules.IsDotDot(name))
        {
            return LookupDots(parent, dotDot: name.Length == 2);
        }

        if (parent.IsKernelInterface)
        {
            // Nothing inside /proc, /sys and their kind: /proc/<our pid>/mem, /proc/kcore, sysfs attributes.
            return Fail(Errno.ENOENT);
        }

        error = NameRules.Validate(name);
        if (error != 0)
        {
            return Fail(error);
        }

        error = HostFileSystem.TryOpenPathBeneath(parent.Handle, name, out SafeFileHandle? handle);
        return error != 0 ? Fail(error) : ReplyEntry(handle!, Payload);
    }

    /// <summary>
    /// "." is the directory itself; ".." of the root is the root (the share has no outside); ".." elsewhere is
    /// answered only when the parent is a node the guest already holds, so it can never name an outside inode.
    /// </summary>
    private FuseResult LookupDots(Inode directory, bool dotDot)
    {
        Inode target = directory;
        if (dotDot && directory != _inodes.Root)
        {
            using SafeFileHandle parent = HostFileSystem.OpenParent(directory.Handle);
            HostFileStatus parentStatus = HostFileSystem.Stat(parent);
            if (!_inodes.TryFind(parentStatus.Device, parentStatus.Inode, out target))
            {
                return Fail(Errno.ENOENT);
            }
        }

        HostFileStatus status = HostFileSystem.Stat(target.Handle);
        if (!_inodes.TryAddLookup(target))
        {
            return Fail(Errno.ENOENT);
        }

        return FuseResult.Payload(WriteEntry(Payload, target, status));
    }

    private FuseResult Forget(in FuseInHeader header, ref FuseArgs args)
    {
        if (args.TryRead(out FuseForgetIn forget))
        {
            _inodes.Forget(header.NodeId, forget.LookupCount);
        }

        return FuseResult.NoReply;
    }

    private FuseResult BatchForget(ref FuseArgs args)
    {
        if (!args.TryRead(out FuseBatchForgetIn batch))
        {
            return FuseResult.NoReply;
        }

        for (uint i = 0; i < batch.Count && args.TryRead(out FuseForgetOne one); i++)
        {
            _inodes.Forget(one.NodeId, one.LookupCount);
        }

        return FuseResult.NoReply;
    }

    private FuseResult GetAttr(in FuseInHeader header)
    {
        if (!TryGetInode(header.NodeId, out Inode inode))
        {
            return Fail(Errno.ENOENT);
        }

        return WriteAttrOut(inode);
    }

    private FuseResult WriteAttrOut(Inode inode)
    {
        HostFileStatus status = HostFileSystem.Stat(inode.Handle);
        return Reply(new FuseAttrOut
        {
            AttrValid = _cache.TimeoutSeconds,
            Attr = FuseWriter.ToAttr(status, _uids.ToGuest(status.Uid), _gids.ToGuest(status.Gid), BlockSizeFor(status)),
        });
    }

    private FuseResult SetAttr(in FuseInHeader header, ref FuseArgs args)
    {
        if (!args.TryRead(out FuseSetAttrIn s))
        {
            return Fail(Errno.EINVAL);
        }

        if (!TryGetInode(header.NodeId, out Inode inode))
        {
            return Fail(Errno.ENOENT);
        }

        uint valid = s.Valid;
        const uint changes = FuseProtocol.FattrMode | FuseProtocol.FattrUid | FuseProtocol.FattrGid | FuseProtocol.FattrSize
            | FuseProtocol.FattrAtime | FuseProtocol.FattrMtime | FuseProtocol.FattrAtimeNow | FuseProtocol.FattrMtimeNow;
        if (_readOnly && (valid & changes) != 0)
        {
            return Fail(Errno.EROFS);
        }

        if ((valid & changes) != 0 && inode.IsKernelInterface)
        {
            return Fail(Errno.EPERM);
        }

        if ((valid & FuseProtocol.FattrSize) != 0)
        {
            int error = Truncate(inode, valid, s.FileHandle, s.Size);
            if (error != 0)
            {
                return Fail(error);
            }
        }

        if ((valid & FuseProtocol.FattrMode) != 0)
        {
            HostFileSystem.ChangeMode(_procSelfFd, inode.Handle, SanitizeMode(s.Mode, inode.IsDirectory));
        }

        if ((valid & (FuseProtocol.FattrUid | FuseProtocol.FattrGid)) != 0)
        {
            uint uid = uint.MaxValue;
            uint gid = uint.MaxValue;
            if ((valid & FuseProtocol.FattrUid) != 0 && !_uids.TryToHost(s.Uid, out uid))
            {
                return Fail(Errno.EINVAL);
            }

            if ((valid & FuseProtocol.FattrGid) != 0 && !_gids.TryToHost(s.Gid, out gid))
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
            HostFileTime access = TimeFrom(valid, FuseProtocol.FattrAtime, FuseProtocol.FattrAtimeNow, s.AccessSeconds, s.AccessNanoseconds);
            HostFileTime modify = TimeFrom(valid, FuseProtocol.FattrMtime, FuseProtocol.FattrMtimeNow, s.ModifySeconds, s.ModifyNanoseconds);
            HostFileSystem.SetTimes(_procSelfFd, inode.Handle, inode.IsSymlink, access, modify);
        }

        return WriteAttrOut(inode);
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

    /// <summary>
    /// Permission bits only (the guest kernel already applied its umask and its set-group-ID rules for the
    /// caller). With <c>keepSetId: false</c> set-user-ID (and set-group-ID on files) are stripped so a guest cannot
    /// plant privileged executables on the host.
    /// </summary>
    private uint SanitizeMode(uint mode, bool directory)
        => _keepSetId
            ? mode & FuseProtocol.PermissionMask
            : mode & FuseProtocol.PermissionMask & ~(FuseProtocol.SetUid | (directory ? 0 : FuseProtocol.SetGid));

    private FuseResult ReadLink(in FuseInHeader header)
    {
        if (!TryGetInode(header.NodeId, out Inode inode))
        {
            return Fail(Errno.ENOENT);
        }

        if (!inode.IsSymlink)
        {
            return Fail(Errno.EINVAL);
        }

        return FuseResult.Payload(HostFileSystem.ReadLink(inode.Handle, Payload[..HostFileSystem.MaxNameBytes]));
    }

    private FuseResult StatFs(in FuseInHeader header)
    {
        if (!TryGetInode(header.NodeId, out Inode inode))
        {
            return Fail(Errno.ENOENT);
        }

        HostFileSystemStatus status = HostFileSystem.StatFileSystem(inode.Handle);
        return Reply(new FuseStatFsOut
        {
            Status = new FuseKStatFs
            {
                Blocks = status.Blocks,
                BlocksFree = status.BlocksFree,
                BlocksAvailable = status.BlocksAvailable,
                Files = status.Files,
                FilesFree = status.FilesFree,
                BlockSize = status.BlockSize,
                NameLength = status.NameLength,
                FragmentSize = status.FragmentSize,
            },
        });
    }

    /// <summary>virtiofs forces default_permissions, so the guest kernel checks access itself; the node must exist.</summary>
    private FuseResult Access(in FuseInHeader header) => TryGetInode(header.NodeId, out _) ? ReplyEmpty() : Fail(Errno.ENOENT);
}

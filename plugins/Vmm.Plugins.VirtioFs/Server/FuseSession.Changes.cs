using Microsoft.Win32.SafeHandles;
using Vmm.Plugins.VirtioFs.Fuse;
using Vmm.Plugins.VirtioFs.Host;

namespace Vmm.Plugins.VirtioFs.Server;

internal sealed partial class FuseSession
{
    private FuseResult Symlink(in FuseInHeader header, ref FuseArgs args)
    {
        if (!args.TryReadString(out ReadOnlySpan<byte> name) || !args.TryReadString(out ReadOnlySpan<byte> target))
        {
            return Fail(Errno.EINVAL);
        }

        int error = PrepareCreate(header, name, out Inode parent);
        if (error != 0)
        {
            return Fail(error);
        }

        if (target.IsEmpty || target.Length >= HostFileSystem.MaxNameBytes)
        {
            return Fail(target.IsEmpty ? Errno.EINVAL : Errno.ENAMETOOLONG);
        }

        error = CallerCredentials.TryEnter(_connection, header, out CallerCredentials caller);
        if (error != 0)
        {
            return Fail(error);
        }

        using (caller)
        {
            // The target is stored, never followed: every later open of the node uses O_NOFOLLOW.
            HostFileSystem.MakeSymbolicLink(target, parent.Handle, name);
        }

        return ReplyCreated(header, parent, name, FuseProtocol.Symlink, caller.IsSwitched);
    }

    private FuseResult MkNod(in FuseInHeader header, ref FuseArgs args)
    {
        if (!args.TryRead(out FuseMknodIn mknod) || !args.TryReadString(out ReadOnlySpan<byte> name))
        {
            return Fail(Errno.EINVAL);
        }

        uint mode = mknod.Mode;

        int error = PrepareCreate(header, name, out Inode parent);
        if (error != 0)
        {
            return Fail(error);
        }

        uint type = mode & FuseProtocol.FileTypeMask;
        bool deviceNode = type is FuseProtocol.CharacterDevice or FuseProtocol.BlockDevice;
        if (!deviceNode && type is not (FuseProtocol.RegularFile or FuseProtocol.Fifo or FuseProtocol.Socket))
        {
            return Fail(Errno.EINVAL);
        }

        if (deviceNode && !_deviceNodes)
        {
            return Fail(Errno.EPERM);
        }

        error = CallerCredentials.TryEnter(_connection, header, out CallerCredentials caller);
        if (error != 0)
        {
            return Fail(error);
        }

        using (caller)
        {
            // A device node is made, never opened: OPEN reopens regular files only, so it stays a name on the host
            // (the host kernel asks for CAP_MKNOD, which a switched non-root caller does not have).
            HostFileSystem.MakeNode(parent.Handle, name, type | SanitizeMode(mode, directory: false), deviceNode ? FuseWriter.DecodeDevice(mknod.Device) : 0);
        }

        return ReplyCreated(header, parent, name, type, caller.IsSwitched);
    }

    private FuseResult MkDir(in FuseInHeader header, ref FuseArgs args)
    {
        if (!args.TryRead(out FuseMkdirIn mkdir) || !args.TryReadString(out ReadOnlySpan<byte> name))
        {
            return Fail(Errno.EINVAL);
        }

        int error = PrepareCreate(header, name, out Inode parent);
        if (error != 0)
        {
            return Fail(error);
        }

        error = CallerCredentials.TryEnter(_connection, header, out CallerCredentials caller);
        if (error != 0)
        {
            return Fail(error);
        }

        using (caller)
        {
            HostFileSystem.MakeDirectory(parent.Handle, name, SanitizeMode(mkdir.Mode, directory: true));
        }

        return ReplyCreated(header, parent, name, FuseProtocol.Directory, caller.IsSwitched);
    }

    private FuseResult Unlink(in FuseInHeader header, ref FuseArgs args, bool directory)
    {
        if (!args.TryReadString(out ReadOnlySpan<byte> name))
        {
            return Fail(Errno.EINVAL);
        }

        int error = PrepareChange(header.NodeId, name, out Inode parent);
        if (error != 0)
        {
            return Fail(error);
        }

        HostFileSystem.Unlink(parent.Handle, name, directory);
        return ReplyEmpty();
    }

    private FuseResult Rename(in FuseInHeader header, ref FuseArgs args, bool hasFlags)
    {
        // RENAME carries fuse_rename_in, RENAME2 fuse_rename2_in (with flags); the names follow either.
        ulong newDirectoryId;
        uint flags = 0;
        bool fixedPart;
        if (hasFlags)
        {
            fixedPart = args.TryRead(out FuseRename2In rename2);
            (newDirectoryId, flags) = (rename2.NewDirectory, rename2.Flags);
        }
        else
        {
            fixedPart = args.TryRead(out FuseRenameIn rename);
            newDirectoryId = rename.NewDirectory;
        }

        if (!fixedPart || !args.TryReadString(out ReadOnlySpan<byte> oldName) || !args.TryReadString(out ReadOnlySpan<byte> newName))
        {
            return Fail(Errno.EINVAL);
        }

        if ((flags & ~HostFileSystem.KnownRenameFlags) != 0)
        {
            return Fail(Errno.EINVAL);
        }

        int error = PrepareChange(header.NodeId, oldName, out Inode oldParent);
        if (error == 0)
        {
            error = PrepareChange(newDirectoryId, newName, out Inode newParent);
            if (error == 0)
            {
                HostFileSystem.Rename(oldParent.Handle, oldName, newParent.Handle, newName, flags);
            }
        }

        return error == 0 ? ReplyEmpty() : Fail(error);
    }

    private FuseResult Link(in FuseInHeader header, ref FuseArgs args)
    {
        if (!args.TryRead(out FuseLinkIn link) || !args.TryReadString(out ReadOnlySpan<byte> name))
        {
            return Fail(Errno.EINVAL);
        }

        int error = PrepareChange(header.NodeId, name, out Inode parent);
        if (error != 0)
        {
            return Fail(error);
        }

        if (!TryGetInode(link.OldNodeId, out Inode target))
        {
            return Fail(Errno.ENOENT);
        }

        if (target.IsDirectory)
        {
            return Fail(Errno.EPERM);
        }

        HostFileSystem.Link(_procSelfFd, target.Handle, parent.Handle, name);
        return ReplyEntry(HostFileSystem.OpenPathBeneath(parent.Handle, name), Payload);
    }

    private FuseResult Create(in FuseInHeader header, ref FuseArgs args)
    {
        if (!args.TryRead(out FuseCreateIn create) || !args.TryReadString(out ReadOnlySpan<byte> name))
        {
            return Fail(Errno.EINVAL);
        }

        (uint flags, uint mode, uint openFlagsIn) = (create.Flags, create.Mode, create.OpenFlags);

        int error = PrepareCreate(header, name, out Inode parent);
        if (error != 0)
        {
            return Fail(error);
        }

        int openFlags = HostFileSystem.SanitizeOpenFlags((int)flags) & ~HostFileSystem.DirectoryOnlyFlag;
        bool guestExclusive = HostFileSystem.IsExclusiveCreate((int)flags);
        SafeFileHandle file;
        bool created = true;
        error = CallerCredentials.TryEnter(_connection, header, out CallerCredentials caller);
        if (error != 0)
        {
            return Fail(error);
        }

        try
        {
            using (caller)
            {
                // Always exclusive on the host, so an existing FIFO or device node is never opened by the create.
                file = HostFileSystem.CreateFile(parent.Handle, name, openFlags, SanitizeMode(mode, directory: false), exclusive: true);
            }
        }
        catch (NativeCallException e) when (e.Errno == Errno.EEXIST && !guestExclusive)
        {
            created = false;
            using SafeFileHandle existing = HostFileSystem.OpenPathBeneath(parent.Handle, name);
            HostFileStatus existingStatus = HostFileSystem.Stat(existing);
            if (!existingStatus.IsRegularFile)
            {
                return Fail(existingStatus.IsDirectory ? Errno.EISDIR : Errno.EACCES);
            }

            file = HostFileSystem.Reopen(_procSelfFd, existing, openFlags);
            try
            {
                KillSetIdsIfAsked(file, openFlags, openFlagsIn);
            }
            catch
            {
                file.Dispose();
                throw;
            }
        }

        Inode? inode;
        try
        {
            SafeFileHandle pathHandle = HostFileSystem.PathHandleOf(_procSelfFd, file);
            if (created && !caller.IsSwitched)
            {
                GiveToCaller(header, pathHandle);
            }

            FuseResult entry = ReplyEntry(pathHandle, Payload, out inode);
            if (entry.IsError)
            {
                file.Dispose();
                return entry;
            }
        }
        catch
        {
            file.Dispose();
            throw;
        }

        ulong fh = AddOpenHandle(file, inode!, isDirectory: false, HostFileSystem.WantsWrite(openFlags));
        if (fh == 0)
        {
            _inodes.Unreference(inode!);
            return Fail(Errno.EMFILE);
        }

        return FuseResult.Payload(FuseProtocol.EntryOutSize + Write(Payload[FuseProtocol.EntryOutSize..], new FuseOpenOut { FileHandle = fh, OpenFlags = _cache.OpenFlags }));
    }

    /// <summary>Checks a create in the parent node: writable share, a directory, a valid name.</summary>
    private int PrepareCreate(in FuseInHeader header, ReadOnlySpan<byte> name, out Inode parent) => PrepareChange(header.NodeId, name, out parent);

    /// <summary>Checks a change of <paramref name="name"/> in directory <paramref name="parentId"/>.</summary>
    private int PrepareChange(ulong parentId, ReadOnlySpan<byte> name, out Inode parent)
    {
        int error = GetDirectory(parentId, out parent);
        if (error != 0)
        {
            return error;
        }

        if (parent.IsKernelInterface)
        {
            return Errno.EACCES;
        }

        error = NameRules.Validate(name);
        if (error != 0)
        {
            return error;
        }

        return _readOnly ? Errno.EROFS : 0;
    }

    /// <summary>Looks up what a create just made, checks its type, gives it the caller's ids, and replies its entry.</summary>
    private FuseResult ReplyCreated(in FuseInHeader header, Inode parent, ReadOnlySpan<byte> name, uint expectedType, bool createdAsCaller)
    {
        SafeFileHandle handle = HostFileSystem.OpenPathBeneath(parent.Handle, name);
        try
        {
            if (HostFileSystem.Stat(handle).FileType != expectedType)
            {
                // Swapped on the host between the create and the lookup.
                handle.Dispose();
                return Fail(Errno.EIO);
            }

            if (!createdAsCaller)
            {
                GiveToCaller(header, handle);
            }
        }
        catch
        {
            handle.Dispose();
            throw;
        }

        return ReplyEntry(handle, Payload);
    }

    /// <summary>
    /// Root without CAP_SETUID/CAP_SETGID (no per-thread ids): a new node is still given to the guest caller (mapped
    /// to host ids) after the fact. Unprivileged, new nodes stay this process's.
    /// </summary>
    private void GiveToCaller(in FuseInHeader header, SafeFileHandle handle)
    {
        if (_privileged && _uids.TryToHost(header.Uid, out uint uid) && _gids.TryToHost(header.Gid, out uint gid))
        {
            HostFileSystem.ChangeOwner(handle, uid, gid);
        }
    }
}

using Microsoft.Win32.SafeHandles;
using Vmm.Plugins.VirtioFs.Host;
using Vmm.Plugins.VirtioFs.Server;

namespace Vmm.Plugins.VirtioFs.PassthroughFs;

/// <summary>Changes to names: the creates (as the caller where the process may switch ids), removes, renames and links.</summary>
internal sealed partial class PassthroughFileSystem
{
    public FuseResult<FuseEntry> Symlink(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, ReadOnlySpan<byte> target)
    {
        int error = PrepareChange(parent, name, out Inode directory);
        if (error != 0)
        {
            return Fail(error);
        }

        if (target.IsEmpty || target.Length >= HostFileSystem.MaxNameBytes)
        {
            return Fail(target.IsEmpty ? Errno.EINVAL : Errno.ENAMETOOLONG);
        }

        error = CallerCredentials.TryEnter(this, context, out CallerCredentials caller);
        if (error != 0)
        {
            return Fail(error);
        }

        using (caller)
        {
            // The target is stored, never followed: every later open of the node uses O_NOFOLLOW.
            using DirectoryChangeLocks.Scope change = _directoryChanges.Enter(directory);
            HostFileSystem.MakeSymbolicLink(target, directory.Handle, name);
        }

        return LookupCreated(context, directory, name, FuseProtocol.Symlink, caller.IsSwitched);
    }

    public FuseResult<FuseEntry> MkNod(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, uint mode, uint device)
    {
        int error = PrepareChange(parent, name, out Inode directory);
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

        error = CallerCredentials.TryEnter(this, context, out CallerCredentials caller);
        if (error != 0)
        {
            return Fail(error);
        }

        using (caller)
        {
            // A device node is made, never opened: OPEN reopens regular files only, so it stays a name on the host
            // (the host kernel asks for CAP_MKNOD, which a switched non-root caller does not have).
            using DirectoryChangeLocks.Scope change = _directoryChanges.Enter(directory);
            HostFileSystem.MakeNode(directory.Handle, name, type | SanitizeMode(mode, directory: false), deviceNode ? FuseWriter.DecodeDevice(device) : 0);
        }

        return LookupCreated(context, directory, name, type, caller.IsSwitched);
    }

    public FuseResult<FuseEntry> MkDir(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, uint mode)
    {
        int error = PrepareChange(parent, name, out Inode directory);
        if (error != 0)
        {
            return Fail(error);
        }

        error = CallerCredentials.TryEnter(this, context, out CallerCredentials caller);
        if (error != 0)
        {
            return Fail(error);
        }

        using (caller)
        {
            using DirectoryChangeLocks.Scope change = _directoryChanges.Enter(directory);
            HostFileSystem.MakeDirectory(directory.Handle, name, SanitizeMode(mode, directory: true));
        }

        return LookupCreated(context, directory, name, FuseProtocol.Directory, caller.IsSwitched);
    }

    public FuseError Unlink(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, bool directory)
    {
        int error = PrepareChange(parent, name, out Inode parentInode);
        if (error != 0)
        {
            return Fail(error);
        }

        using (_directoryChanges.Enter(parentInode))
        {
            HostFileSystem.Unlink(parentInode.Handle, name, directory);
        }

        return FuseError.None;
    }

    public FuseError Rename(in FuseContext context, ulong oldParent, ReadOnlySpan<byte> oldName, ulong newParent, ReadOnlySpan<byte> newName, uint flags)
    {
        if ((flags & ~HostFileSystem.KnownRenameFlags) != 0)
        {
            return Fail(Errno.EINVAL);
        }

        int error = PrepareChange(oldParent, oldName, out Inode oldDirectory);
        if (error == 0)
        {
            error = PrepareChange(newParent, newName, out Inode newDirectory);
            if (error == 0)
            {
                using DirectoryChangeLocks.Scope change = _directoryChanges.Enter(oldDirectory, newDirectory);
                HostFileSystem.Rename(oldDirectory.Handle, oldName, newDirectory.Handle, newName, flags);
            }
        }

        return error == 0 ? FuseError.None : Fail(error);
    }

    public FuseResult<FuseEntry> Link(in FuseContext context, ulong nodeId, ulong newParent, ReadOnlySpan<byte> newName)
    {
        int error = PrepareChange(newParent, newName, out Inode directory);
        if (error != 0)
        {
            return Fail(error);
        }

        if (!TryGetInode(nodeId, out Inode target))
        {
            return Fail(Errno.ENOENT);
        }

        if (target.IsDirectory)
        {
            return Fail(Errno.EPERM);
        }

        using (_directoryChanges.Enter(directory))
        {
            HostFileSystem.Link(_procSelfFd, target.Handle, directory.Handle, newName);
        }

        return CountLookup(HostFileSystem.OpenPathBeneath(directory.Handle, newName));
    }

    /// <summary>Checks a change of <paramref name="name"/> in directory <paramref name="parentId"/>: a directory outside kernel interfaces, a valid name, a writable share.</summary>
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

    /// <summary>Looks up what a create just made, checks its type, gives it the caller's ids, and answers its entry.</summary>
    private FuseResult<FuseEntry> LookupCreated(in FuseContext context, Inode parent, ReadOnlySpan<byte> name, uint expectedType, bool createdAsCaller)
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
                GiveToCaller(context, handle);
            }
        }
        catch
        {
            handle.Dispose();
            throw;
        }

        return CountLookup(handle);
    }

    /// <summary>
    /// Root without CAP_SETUID/CAP_SETGID (no per-thread ids): a new node is still given to the guest caller (mapped
    /// to host ids) after the fact. Unprivileged, new nodes stay this process's.
    /// </summary>
    private void GiveToCaller(in FuseContext context, SafeFileHandle handle)
    {
        if (Privileged && _uids.TryToHost(context.Uid, out uint uid) && _gids.TryToHost(context.Gid, out uint gid))
        {
            HostFileSystem.ChangeOwner(handle, uid, gid);
        }
    }
}

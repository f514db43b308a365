using Microsoft.Win32.SafeHandles;
using Vmm.Plugins.VirtioFs.Host;
using Vmm.Plugins.VirtioFs.Server;

namespace Vmm.Plugins.VirtioFs.PassthroughFs;

/// <summary>OPEN, OPENDIR and CREATE: regular files and directories only, reopened from their O_PATH handles.</summary>
internal sealed partial class PassthroughFileSystem
{
    public FuseResult<FuseOpened> Open(in FuseContext context, ulong nodeId, uint flags, uint openFlags)
    {
        if (!TryGetInode(nodeId, out Inode inode))
        {
            return Fail(Errno.ENOENT);
        }

        if (!inode.IsRegularFile)
        {
            // Only regular files are reopened: a guest must never open a host FIFO or device node (CVE-2020-35517).
            return Fail(inode.IsDirectory ? Errno.EISDIR : Errno.EACCES);
        }

        if (inode.IsKernelInterface)
        {
            // A procfs or sysfs file bind-mounted into the share is the host kernel's, not the guest's to read.
            return Fail(Errno.EACCES);
        }

        int hostFlags = HostFileSystem.SanitizeOpenFlags((int)flags) & ~HostFileSystem.DirectoryOnlyFlag;
        bool writable = HostFileSystem.WantsWrite(hostFlags);
        if (writable && _readOnly)
        {
            return Fail(Errno.EROFS);
        }

        SafeFileHandle file = HostFileSystem.Reopen(_procSelfFd, inode.Handle, hostFlags);
        try
        {
            KillSetIdsIfAsked(file, hostFlags, openFlags);
        }
        catch
        {
            file.Dispose();
            throw;
        }

        return Opened(file, inode, isDirectory: false, writable);
    }

    public FuseResult<FuseOpened> OpenDir(in FuseContext context, ulong nodeId)
    {
        int error = GetDirectory(nodeId, out Inode inode);
        if (error != 0)
        {
            return Fail(error);
        }

        SafeFileHandle file = HostFileSystem.Reopen(_procSelfFd, inode.Handle, HostFileSystem.DirectoryFlags);
        return Opened(file, inode, isDirectory: true, writable: false);
    }

    public FuseResult<FuseCreated> Create(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, uint flags, uint mode, uint openFlags)
    {
        int error = PrepareChange(parent, name, out Inode directory);
        if (error != 0)
        {
            return Fail(error);
        }

        int hostFlags = HostFileSystem.SanitizeOpenFlags((int)flags) & ~HostFileSystem.DirectoryOnlyFlag;
        bool guestExclusive = HostFileSystem.IsExclusiveCreate((int)flags);
        SafeFileHandle file;
        bool created = true;
        error = CallerCredentials.TryEnter(this, context, out CallerCredentials caller);
        if (error != 0)
        {
            return Fail(error);
        }

        try
        {
            using (caller)
            {
                // Always exclusive on the host, so an existing FIFO or device node is never opened by the create.
                using DirectoryChangeLocks.Scope change = _directoryChanges.Enter(directory);
                file = HostFileSystem.CreateFile(directory.Handle, name, hostFlags, SanitizeMode(mode, directory: false), exclusive: true);
            }
        }
        catch (NativeCallException e) when (e.Errno == Errno.EEXIST && !guestExclusive)
        {
            created = false;
            using SafeFileHandle existing = HostFileSystem.OpenPathBeneath(directory.Handle, name);
            HostFileStatus existingStatus = HostFileSystem.Stat(existing);
            if (!existingStatus.IsRegularFile)
            {
                return Fail(existingStatus.IsDirectory ? Errno.EISDIR : Errno.EACCES);
            }

            file = HostFileSystem.Reopen(_procSelfFd, existing, hostFlags);
            try
            {
                KillSetIdsIfAsked(file, hostFlags, openFlags);
            }
            catch
            {
                file.Dispose();
                throw;
            }
        }

        return OpenCreated(context, file, created && !caller.IsSwitched, HostFileSystem.WantsWrite(hostFlags));
    }

    /// <summary>Counts the lookup of what CREATE opened and files its handle; undoes the lookup when the handle table is full.</summary>
    private FuseResult<FuseCreated> OpenCreated(in FuseContext context, SafeFileHandle file, bool giveToCaller, bool writable)
    {
        Inode? inode;
        FuseResult<FuseEntry> entry;
        try
        {
            SafeFileHandle pathHandle = HostFileSystem.PathHandleOf(_procSelfFd, file);
            if (giveToCaller)
            {
                GiveToCaller(context, pathHandle);
            }

            entry = CountLookup(pathHandle, out inode);
            if (entry.IsError)
            {
                file.Dispose();
                return Fail(entry.Errno);
            }
        }
        catch
        {
            file.Dispose();
            throw;
        }

        ulong fh = AddOpenHandle(file, inode!, isDirectory: false, writable);
        if (fh == 0)
        {
            _inodes.Unreference(inode!);
            return Fail(Errno.EMFILE);
        }

        return new FuseCreated(entry.Value, new FuseOpened(fh, _cache.OpenFlags));
    }

    private FuseResult<FuseOpened> Opened(SafeFileHandle file, Inode inode, bool isDirectory, bool writable)
    {
        ulong fh = AddOpenHandle(file, inode, isDirectory, writable);
        return fh == 0 ? Fail(Errno.EMFILE) : new FuseOpened(fh, isDirectory ? 0 : _cache.OpenFlags);
    }

    /// <summary>
    /// Files <paramref name="file"/> as a new FUSE handle holding <paramref name="inode"/>; 0 (and
    /// <paramref name="file"/> closed) when the table is full or the node was forgotten meanwhile.
    /// </summary>
    private ulong AddOpenHandle(SafeFileHandle file, Inode inode, bool isDirectory, bool writable)
    {
        if (!inode.TryHold())
        {
            file.Dispose();
            return 0;
        }

        return _handles.Add(new OpenHandle(file, inode, isDirectory, writable));
    }
}

using Microsoft.Win32.SafeHandles;
using Vmm.Contracts.Virtio;
using Vmm.Plugins.VirtioFs.Fuse;
using Vmm.Plugins.VirtioFs.Host;

namespace Vmm.Plugins.VirtioFs.Server;

internal sealed partial class FuseSession
{
    /// <summary>The most a COPY_FILE_RANGE copies: its reply size is a u32.</summary>
    private const long MaxCopyLength = 0x7FFF_F000;

    private FuseResult Open(in FuseInHeader header, ref FuseArgs args)
    {
        if (!args.TryRead(out FuseOpenIn open))
        {
            return Fail(Errno.EINVAL);
        }

        (uint flags, uint openFlagsIn) = (open.Flags, open.OpenFlags);

        if (!TryGetInode(header.NodeId, out Inode inode))
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

        int openFlags = HostFileSystem.SanitizeOpenFlags((int)flags) & ~HostFileSystem.DirectoryOnlyFlag;
        bool writable = HostFileSystem.WantsWrite(openFlags);
        if (writable && _readOnly)
        {
            return Fail(Errno.EROFS);
        }

        SafeFileHandle file = HostFileSystem.Reopen(_procSelfFd, inode.Handle, openFlags);
        try
        {
            KillSetIdsIfAsked(file, openFlags, openFlagsIn);
        }
        catch
        {
            file.Dispose();
            throw;
        }

        return ReplyOpen(file, inode, isDirectory: false, writable);
    }

    private FuseResult OpenDir(in FuseInHeader header)
    {
        int error = GetDirectory(header.NodeId, out Inode inode);
        if (error != 0)
        {
            return Fail(error);
        }

        SafeFileHandle file = HostFileSystem.Reopen(_procSelfFd, inode.Handle, HostFileSystem.DirectoryFlags);
        return ReplyOpen(file, inode, isDirectory: true, writable: false);
    }

    private FuseResult ReplyOpen(SafeFileHandle file, Inode inode, bool isDirectory, bool writable)
    {
        ulong fh = AddOpenHandle(file, inode, isDirectory, writable);
        if (fh == 0)
        {
            return Fail(Errno.EMFILE);
        }

        return Reply(new FuseOpenOut { FileHandle = fh, OpenFlags = isDirectory ? 0 : _cache.OpenFlags });
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

    private FuseResult Read(ref FuseArgs args, DescriptorChain chain)
    {
        if (!args.TryRead(out FuseReadIn read))
        {
            return Fail(Errno.EINVAL);
        }

        (ulong fh, ulong offset, uint size) = (read.FileHandle, read.Offset, read.Size);

        if (!_handles.TryGet(fh, out OpenHandle handle) || handle.IsDirectory)
        {
            return Fail(Errno.EBADF);
        }

        if (offset > long.MaxValue)
        {
            return Fail(Errno.EINVAL);
        }

        long room = chain.WritableLength - FuseProtocol.OutHeaderSize;
        int wanted = (int)Math.Min(Math.Min(size, (uint)FuseProtocol.MaxWrite), Math.Max(room, 0));
        int done = _io.ReadFile(handle.File, (long)offset, wanted, chain, FuseProtocol.OutHeaderSize);
        _payloadInChain = true;
        return FuseResult.Payload(done);
    }

    private FuseResult Write(ref FuseArgs args, int argsLength, DescriptorChain chain)
    {
        if (!args.TryRead(out FuseWriteIn write))
        {
            return Fail(Errno.EINVAL);
        }

        (ulong fh, ulong offset, uint size, uint writeFlags) = (write.FileHandle, write.Offset, write.Size, write.WriteFlags);

        if ((long)size != argsLength - FuseProtocol.WriteInSize || size > FuseProtocol.MaxWrite)
        {
            return Fail(Errno.EINVAL);
        }

        if (!_handles.TryGet(fh, out OpenHandle handle) || handle.IsDirectory || !handle.Writable)
        {
            return Fail(_readOnly ? Errno.EROFS : Errno.EBADF);
        }

        if (offset > long.MaxValue || size > long.MaxValue - (long)offset)
        {
            return Fail(Errno.EFBIG);
        }

        if ((writeFlags & FuseProtocol.WriteKillSuidgid) != 0)
        {
            KillSetIds(handle.File);
        }

        int written = _io.WriteFile(handle.File, (long)offset, (int)size, chain, FuseProtocol.InHeaderSize + FuseProtocol.WriteInSize);
        return Reply(new FuseWriteOut { Size = (uint)written });
    }

    private FuseResult Release(ref FuseArgs args)
    {
        if (!args.TryRead(out FuseReleaseIn release))
        {
            return Fail(Errno.EINVAL);
        }

        if (!_handles.Remove(release.FileHandle))
        {
            return Fail(Errno.EBADF);
        }

        _connection.Exports?.Release(release.FileHandle);
        return ReplyEmpty();
    }

    private FuseResult Flush(ref FuseArgs args)
    {
        if (!args.TryRead(out FuseFlushIn flush))
        {
            return Fail(Errno.EINVAL);
        }

        return _handles.TryGet(flush.FileHandle, out _) ? ReplyEmpty() : Fail(Errno.EBADF);
    }

    private FuseResult FSync(ref FuseArgs args)
    {
        if (!args.TryRead(out FuseFsyncIn fsync))
        {
            return Fail(Errno.EINVAL);
        }

        if (!_handles.TryGet(fsync.FileHandle, out OpenHandle handle))
        {
            return Fail(Errno.EBADF);
        }

        HostFileSystem.Sync(handle.File, (fsync.FsyncFlags & FuseProtocol.FsyncFdatasync) != 0);
        return ReplyEmpty();
    }

    private FuseResult Fallocate(ref FuseArgs args)
    {
        if (!args.TryRead(out FuseFallocateIn fallocate))
        {
            return Fail(Errno.EINVAL);
        }

        (ulong fh, ulong offset, ulong length, uint mode) = (fallocate.FileHandle, fallocate.Offset, fallocate.Length, fallocate.Mode);

        if (_readOnly)
        {
            return Fail(Errno.EROFS);
        }

        if (!_handles.TryGet(fh, out OpenHandle handle) || handle.IsDirectory || !handle.Writable)
        {
            return Fail(Errno.EBADF);
        }

        if (offset > long.MaxValue || length == 0 || length > (ulong)(long.MaxValue - (long)offset))
        {
            return Fail(Errno.EINVAL);
        }

        HostFileSystem.Allocate(handle.File, (int)mode, (long)offset, (long)length);
        return ReplyEmpty();
    }

    private FuseResult LSeek(ref FuseArgs args)
    {
        if (!args.TryRead(out FuseLSeekIn seek))
        {
            return Fail(Errno.EINVAL);
        }

        (ulong fh, ulong offset, uint whence) = (seek.FileHandle, seek.Offset, seek.Whence);

        if (!_handles.TryGet(fh, out OpenHandle handle) || handle.IsDirectory)
        {
            return Fail(Errno.EBADF);
        }

        if (offset > long.MaxValue || !HostFileSystem.IsDataOrHoleWhence(whence, out bool hole))
        {
            return Fail(Errno.EINVAL);
        }

        long result = HostFileSystem.SeekDataOrHole(handle.File, (long)offset, hole);
        return Reply(new FuseLSeekOut { Offset = (ulong)result });
    }

    private FuseResult CopyFileRange(ref FuseArgs args)
    {
        if (!args.TryRead(out FuseCopyFileRangeIn copy))
        {
            return Fail(Errno.EINVAL);
        }

        (ulong fhIn, ulong offsetIn, ulong fhOut, ulong offsetOut, ulong length, ulong flags)
            = (copy.FileHandleIn, copy.OffsetIn, copy.FileHandleOut, copy.OffsetOut, copy.Length, copy.Flags);

        if (_readOnly)
        {
            return Fail(Errno.EROFS);
        }

        if (!_handles.TryGet(fhIn, out OpenHandle input) || input.IsDirectory
            || !_handles.TryGet(fhOut, out OpenHandle output) || output.IsDirectory || !output.Writable)
        {
            return Fail(Errno.EBADF);
        }

        if (flags != 0 || offsetIn > long.MaxValue || offsetOut > long.MaxValue)
        {
            return Fail(Errno.EINVAL);
        }

        long copied = HostFileSystem.CopyRange(input.File, (long)offsetIn, output.File, (long)offsetOut, (long)Math.Min(length, (ulong)MaxCopyLength));
        return Reply(new FuseWriteOut { Size = (uint)copied });
    }

    private FuseResult SyncFs()
    {
        HostFileSystem.SyncFileSystem(_rootDirectory);
        return ReplyEmpty();
    }

    /// <summary>OPEN or CREATE of an existing file with O_TRUNC by a caller without CAP_FSETID (KILLPRIV_V2).</summary>
    private void KillSetIdsIfAsked(SafeFileHandle file, int openFlags, uint openFlagsIn)
    {
        if (HostFileSystem.Truncates(openFlags) && (openFlagsIn & FuseProtocol.OpenKillSuidgid) != 0)
        {
            KillSetIds(file);
        }
    }

    /// <summary>
    /// What the kernel does when a caller without CAP_FSETID writes, truncates or chowns a regular file (the guest
    /// asks only for such callers, FUSE_HANDLE_KILLPRIV_V2): set-user-ID goes, and set-group-ID where the group may
    /// execute (without it the bit means mandatory locking, which stays). This process has CAP_FSETID, so the host
    /// kernel would not do it for us.
    /// </summary>
    private void KillSetIds(SafeFileHandle file)
    {
        HostFileStatus status = HostFileSystem.Stat(file);
        if (!status.IsRegularFile)
        {
            return;
        }

        uint mode = status.Mode & FuseProtocol.PermissionMask;
        uint kept = mode & ~FuseProtocol.SetUid;
        if ((mode & (FuseProtocol.SetGid | FuseProtocol.GroupExecute)) == (FuseProtocol.SetGid | FuseProtocol.GroupExecute))
        {
            kept &= ~FuseProtocol.SetGid;
        }

        if (kept != mode)
        {
            HostFileSystem.ChangeMode(_procSelfFd, file, kept);
        }
    }
}

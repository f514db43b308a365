using Vmm.Plugins.VirtioFs.Host;
using Vmm.Plugins.VirtioFs.Server;

namespace Vmm.Plugins.VirtioFs.PassthroughFs;

/// <summary>I/O on open handles: data straight between the host file and guest memory, sync, allocation, seeks, copies.</summary>
internal sealed partial class PassthroughFileSystem
{
    /// <summary>The most a COPY_FILE_RANGE copies: its reply size is a u32.</summary>
    private const long MaxCopyLength = 0x7FFF_F000;

    // Each queue's thread has its own iovec array and bounce buffer.
    [ThreadStatic]
    private static ChainIo? t_io;

    private static ChainIo Io => t_io ??= new ChainIo();

    public FuseResult<int> Read(in FuseContext context, ulong fileHandle, ulong offset, FuseData destination)
    {
        if (!_handles.TryGet(fileHandle, out OpenHandle handle) || handle.IsDirectory)
        {
            return Fail(Errno.EBADF);
        }

        if (offset > long.MaxValue)
        {
            return Fail(Errno.EINVAL);
        }

        return Io.ReadFile(handle.File, (long)offset, destination.Length, destination.Chain, destination.ChainOffset);
    }

    public FuseResult<int> Write(in FuseContext context, ulong fileHandle, ulong offset, uint writeFlags, FuseData source)
    {
        if (!_handles.TryGet(fileHandle, out OpenHandle handle) || handle.IsDirectory || !handle.Writable)
        {
            return Fail(_readOnly ? Errno.EROFS : Errno.EBADF);
        }

        if (offset > long.MaxValue || source.Length > long.MaxValue - (long)offset)
        {
            return Fail(Errno.EFBIG);
        }

        if ((writeFlags & FuseProtocol.WriteKillSuidgid) != 0)
        {
            KillSetIds(handle.File);
        }

        return Io.WriteFile(handle.File, (long)offset, source.Length, source.Chain, source.ChainOffset);
    }

    public FuseError Release(ulong fileHandle)
    {
        if (!_handles.Remove(fileHandle))
        {
            return Fail(Errno.EBADF);
        }

        Exports?.Release(fileHandle);
        return FuseError.None;
    }

    public FuseResult<ulong> ExportFile(ulong nodeId, ulong fileHandle)
    {
        if (Exports is not FileExports exports)
        {
            return Fail(Errno.EOPNOTSUPP);
        }

        if (!_handles.TryGet(fileHandle, out OpenHandle handle) || handle.IsDirectory || handle.Inode.NodeId != nodeId)
        {
            return Fail(Errno.EBADF);
        }

        if (!exports.Export(fileHandle, handle.File))
        {
            return Fail(Errno.EMFILE);
        }

        if (!_handles.TryGet(fileHandle, out _))
        {
            // Another queue released the handle meanwhile: its export must not outlive it.
            exports.Release(fileHandle);
            return Fail(Errno.EBADF);
        }

        return exports.FileSystemId;
    }

    public FuseError Flush(ulong fileHandle) => _handles.TryGet(fileHandle, out _) ? FuseError.None : Fail(Errno.EBADF);

    public FuseError FSync(ulong fileHandle, bool dataOnly)
    {
        if (!_handles.TryGet(fileHandle, out OpenHandle handle))
        {
            return Fail(Errno.EBADF);
        }

        HostFileSystem.Sync(handle.File, dataOnly);
        return FuseError.None;
    }

    public FuseError Fallocate(ulong fileHandle, ulong offset, ulong length, uint mode)
    {
        if (_readOnly)
        {
            return Fail(Errno.EROFS);
        }

        if (!_handles.TryGet(fileHandle, out OpenHandle handle) || handle.IsDirectory || !handle.Writable)
        {
            return Fail(Errno.EBADF);
        }

        if (offset > long.MaxValue || length == 0 || length > (ulong)(long.MaxValue - (long)offset))
        {
            return Fail(Errno.EINVAL);
        }

        HostFileSystem.Allocate(handle.File, (int)mode, (long)offset, (long)length);
        return FuseError.None;
    }

    public FuseResult<ulong> LSeek(ulong fileHandle, ulong offset, uint whence)
    {
        if (!_handles.TryGet(fileHandle, out OpenHandle handle) || handle.IsDirectory)
        {
            return Fail(Errno.EBADF);
        }

        if (offset > long.MaxValue || !HostFileSystem.IsDataOrHoleWhence(whence, out bool hole))
        {
            return Fail(Errno.EINVAL);
        }

        return (ulong)HostFileSystem.SeekDataOrHole(handle.File, (long)offset, hole);
    }

    public FuseResult<uint> CopyFileRange(in FuseCopyFileRangeIn copy)
    {
        if (_readOnly)
        {
            return Fail(Errno.EROFS);
        }

        if (!_handles.TryGet(copy.FileHandleIn, out OpenHandle input) || input.IsDirectory
            || !_handles.TryGet(copy.FileHandleOut, out OpenHandle output) || output.IsDirectory || !output.Writable)
        {
            return Fail(Errno.EBADF);
        }

        if (copy.Flags != 0 || copy.OffsetIn > long.MaxValue || copy.OffsetOut > long.MaxValue)
        {
            return Fail(Errno.EINVAL);
        }

        long length = (long)Math.Min(copy.Length, (ulong)MaxCopyLength);
        return (uint)HostFileSystem.CopyRange(input.File, (long)copy.OffsetIn, output.File, (long)copy.OffsetOut, length);
    }

    public FuseError SyncFs()
    {
        HostFileSystem.SyncFileSystem(_rootDirectory);
        return FuseError.None;
    }
}

using Microsoft.Win32.SafeHandles;
using Vmm.Plugins.VirtioFs.Host;
using Vmm.Plugins.VirtioFs.Server;

namespace Vmm.Plugins.VirtioFs.PassthroughFs;

/// <summary>Nodes as the guest sees them: counted lookups and attributes from host stats, ids mapped to the guest's.</summary>
internal sealed partial class PassthroughFileSystem
{
    /// <summary>Counts a lookup of the inode behind <paramref name="handle"/> (taking it) and answers its entry.</summary>
    private FuseResult<FuseEntry> CountLookup(SafeFileHandle handle) => CountLookup(handle, out _);

    /// <inheritdoc cref="CountLookup(SafeFileHandle)"/>
    private FuseResult<FuseEntry> CountLookup(SafeFileHandle handle, out Inode? inode)
    {
        inode = null;
        HostFileStatus status;
        bool kernelInterface;
        try
        {
            status = HostFileSystem.Stat(handle);
            kernelInterface = IsKernelInterface(handle, status);
        }
        catch
        {
            handle.Dispose();
            throw;
        }

        inode = _inodes.Reference(handle, status, kernelInterface);
        return inode is null ? Fail(Errno.ENFILE) : EntryOf(inode, status);
    }

    private FuseEntry EntryOf(Inode inode, in HostFileStatus status) => new(inode.NodeId, AttrOf(status), _cache.TimeoutSeconds);

    private FuseAttributes AttributesOf(Inode inode) => new(AttrOf(HostFileSystem.Stat(inode.Handle)), _cache.TimeoutSeconds);

    /// <summary>fuse_attr from a host stat, with the ids mapped to the guest's.</summary>
    private FuseAttr AttrOf(in HostFileStatus status) => new()
    {
        Inode = status.Inode,
        Size = (ulong)Math.Max(0, status.Size),
        Blocks = (ulong)Math.Max(0, status.Blocks),
        AccessSeconds = (ulong)status.AccessSeconds,
        ModifySeconds = (ulong)status.ModifySeconds,
        ChangeSeconds = (ulong)status.ChangeSeconds,
        AccessNanoseconds = (uint)status.AccessNanoseconds,
        ModifyNanoseconds = (uint)status.ModifyNanoseconds,
        ChangeNanoseconds = (uint)status.ChangeNanoseconds,
        Mode = status.Mode,
        LinkCount = (uint)Math.Min(status.LinkCount, uint.MaxValue),
        Uid = _uids.ToGuest(status.Uid),
        Gid = _gids.ToGuest(status.Gid),
        Device = FuseWriter.EncodeDevice(status.RawDevice),

        // DAX maps whole pages: the guest sizes its I/O by st_blksize.
        BlockSize = _daxWindow ? 4096u : (uint)Math.Clamp(status.BlockSize, 0, 1 << 30),
    };

    /// <summary>
    /// Permission bits only (the guest kernel already applied its umask and its set-group-ID rules for the
    /// caller). With <c>keepSetId: false</c> set-user-ID (and set-group-ID on files) are stripped so a guest cannot
    /// plant privileged executables on the host.
    /// </summary>
    private uint SanitizeMode(uint mode, bool directory)
        => _keepSetId
            ? mode & FuseProtocol.PermissionMask
            : mode & FuseProtocol.PermissionMask & ~(FuseProtocol.SetUid | (directory ? 0 : FuseProtocol.SetGid));

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

using Microsoft.Win32.SafeHandles;
using Vmm.Plugins.VirtioFs.Host;
using Vmm.Plugins.VirtioFs.Server;

namespace Vmm.Plugins.VirtioFs.PassthroughFs;

/// <summary>Lookups, FORGET, attributes, link targets and file-system status.</summary>
internal sealed partial class PassthroughFileSystem
{
    public FuseResult<FuseEntry> Lookup(in FuseContext context, ulong parent, ReadOnlySpan<byte> name)
    {
        int error = GetDirectory(parent, out Inode directory);
        if (error != 0)
        {
            return Fail(error);
        }

        if (NameRules.IsDot(name) || NameRules.IsDotDot(name))
        {
            return LookupDots(directory, dotDot: name.Length == 2);
        }

        if (directory.IsKernelInterface)
        {
            // Nothing inside /proc, /sys and their kind: /proc/<our pid>/mem, /proc/kcore, sysfs attributes.
            return Fail(Errno.ENOENT);
        }

        error = NameRules.Validate(name);
        if (error != 0)
        {
            return Fail(error);
        }

        // A name whose inode the guest already holds (a stat after a create, a revalidation after the entry timeout)
        // is answered from one stat by name: no O_PATH open, stat and close of a handle the table already has. A
        // missing name is answered here too; anything else takes the open below, as a new inode must.
        error = HostFileSystem.TryStatBeneath(directory.Handle, name, out HostFileStatus named);
        if (error == Errno.ENOENT)
        {
            return Fail(error);
        }

        if (error == 0 && _inodes.TryFind(named.Device, named.Inode, out Inode known) && _inodes.TryAddLookup(known))
        {
            return EntryOf(known, named);
        }

        error = HostFileSystem.TryOpenPathBeneath(directory.Handle, name, out SafeFileHandle? handle);
        return error != 0 ? Fail(error) : CountLookup(handle!);
    }

    /// <summary>
    /// "." is the directory itself; ".." of the root is the root (the share has no outside); ".." elsewhere is
    /// answered only when the parent is a node the guest already holds, so it can never name an outside inode.
    /// </summary>
    private FuseResult<FuseEntry> LookupDots(Inode directory, bool dotDot)
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

        return EntryOf(target, status);
    }

    public void Forget(ulong nodeId, ulong count) => _inodes.Forget(nodeId, count);

    public FuseResult<FuseAttributes> GetAttr(in FuseContext context, ulong nodeId)
        => TryGetInode(nodeId, out Inode inode) ? AttributesOf(inode) : Fail(Errno.ENOENT);

    public FuseResult<int> ReadLink(in FuseContext context, ulong nodeId, Span<byte> target)
    {
        if (!TryGetInode(nodeId, out Inode inode))
        {
            return Fail(Errno.ENOENT);
        }

        if (!inode.IsSymlink)
        {
            return Fail(Errno.EINVAL);
        }

        return HostFileSystem.ReadLink(inode.Handle, target[..Math.Min(target.Length, HostFileSystem.MaxNameBytes)]);
    }

    public FuseResult<FuseKStatFs> StatFs(in FuseContext context, ulong nodeId)
    {
        if (!TryGetInode(nodeId, out Inode inode))
        {
            return Fail(Errno.ENOENT);
        }

        HostFileSystemStatus status = HostFileSystem.StatFileSystem(inode.Handle);
        return new FuseKStatFs
        {
            Blocks = status.Blocks,
            BlocksFree = status.BlocksFree,
            BlocksAvailable = status.BlocksAvailable,
            Files = status.Files,
            FilesFree = status.FilesFree,
            BlockSize = status.BlockSize,
            NameLength = status.NameLength,
            FragmentSize = status.FragmentSize,
        };
    }

    /// <summary>virtiofs forces default_permissions, so the guest kernel checks access itself; the node must exist.</summary>
    public FuseError Access(in FuseContext context, ulong nodeId) => TryGetInode(nodeId, out _) ? FuseError.None : Fail(Errno.ENOENT);
}

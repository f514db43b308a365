using Microsoft.Win32.SafeHandles;
using Vmm.Plugins.VirtioFs.Host;
using Vmm.Plugins.VirtioFs.Server;

namespace Vmm.Plugins.VirtioFs.PassthroughFs;

/// <summary>Extended attributes, on regular files and directories only; the guest may change user.* alone.</summary>
internal sealed partial class PassthroughFileSystem
{
    /// <summary>Only user.* attributes may be set or removed: trusted.*, security.* (capabilities!) and system.* act on the host.</summary>
    private static ReadOnlySpan<byte> UserNamespace => "user."u8;

    public FuseError SetXattr(in FuseContext context, ulong nodeId, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, uint flags)
    {
        int error = PrepareXattrChange(nodeId, name, out Inode inode);
        if (error != 0)
        {
            return Fail(error);
        }

        using SafeFileHandle file = HostFileSystem.Reopen(_procSelfFd, inode.Handle, HostFileSystem.AttributeFlags);
        HostFileSystem.SetAttribute(file, name, value, (int)flags);
        return FuseError.None;
    }

    public FuseError RemoveXattr(in FuseContext context, ulong nodeId, ReadOnlySpan<byte> name)
    {
        int error = PrepareXattrChange(nodeId, name, out Inode inode);
        if (error != 0)
        {
            return Fail(error);
        }

        using SafeFileHandle file = HostFileSystem.Reopen(_procSelfFd, inode.Handle, HostFileSystem.AttributeFlags);
        HostFileSystem.RemoveAttribute(file, name);
        return FuseError.None;
    }

    public FuseResult<int> GetXattr(in FuseContext context, ulong nodeId, ReadOnlySpan<byte> name, Span<byte> value)
    {
        if (name.IsEmpty || name.Length > FuseProtocol.MaxNameLength)
        {
            return Fail(Errno.EINVAL);
        }

        if (!TryGetInode(nodeId, out Inode inode))
        {
            return Fail(Errno.ENOENT);
        }

        if (!inode.IsRegularFile && !inode.IsDirectory)
        {
            return Fail(Errno.ENODATA);
        }

        using SafeFileHandle file = HostFileSystem.Reopen(_procSelfFd, inode.Handle, HostFileSystem.AttributeFlags);
        return HostFileSystem.GetAttribute(file, name, value);
    }

    public FuseResult<int> ListXattr(in FuseContext context, ulong nodeId, Span<byte> names)
    {
        if (!TryGetInode(nodeId, out Inode inode))
        {
            return Fail(Errno.ENOENT);
        }

        if (!inode.IsRegularFile && !inode.IsDirectory)
        {
            return 0;
        }

        using SafeFileHandle file = HostFileSystem.Reopen(_procSelfFd, inode.Handle, HostFileSystem.AttributeFlags);
        return HostFileSystem.ListAttributes(file, names);
    }

    private int PrepareXattrChange(ulong nodeId, ReadOnlySpan<byte> name, out Inode inode)
    {
        if (!TryGetInode(nodeId, out inode))
        {
            return Errno.ENOENT;
        }

        if (name.Length > FuseProtocol.MaxNameLength || name.Length <= UserNamespace.Length || !name.StartsWith(UserNamespace))
        {
            return name.StartsWith(UserNamespace) ? Errno.EINVAL : Errno.EOPNOTSUPP;
        }

        if (_readOnly)
        {
            return Errno.EROFS;
        }

        return (inode.IsRegularFile || inode.IsDirectory) && !inode.IsKernelInterface ? 0 : Errno.EPERM;
    }
}

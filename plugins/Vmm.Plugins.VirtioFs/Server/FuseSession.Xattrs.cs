using Microsoft.Win32.SafeHandles;
using Vmm.Plugins.VirtioFs.Fuse;
using Vmm.Plugins.VirtioFs.Host;

namespace Vmm.Plugins.VirtioFs.Server;

internal sealed partial class FuseSession
{
    /// <summary>Only user.* attributes may be set or removed: trusted.*, security.* (capabilities!) and system.* act on the host.</summary>
    private static ReadOnlySpan<byte> UserNamespace => "user."u8;

    private FuseResult SetXattr(in FuseInHeader header, ref FuseArgs args)
    {
        if (!args.TryRead(out FuseSetXattrIn setxattr) || !args.TryReadString(out ReadOnlySpan<byte> name))
        {
            return Fail(Errno.EINVAL);
        }

        (uint size, uint flags) = (setxattr.Size, setxattr.Flags);

        if (size > FuseProtocol.MaxXattrSize || size != (uint)args.Remaining || !args.TryReadBytes((int)size, out ReadOnlySpan<byte> value))
        {
            return Fail(Errno.EINVAL);
        }

        int error = PrepareXattrChange(header.NodeId, name, out Inode inode);
        if (error != 0)
        {
            return Fail(error);
        }

        using SafeFileHandle file = HostFileSystem.Reopen(_procSelfFd, inode.Handle, HostFileSystem.AttributeFlags);
        HostFileSystem.SetAttribute(file, name, value, (int)flags);
        return ReplyEmpty();
    }

    private FuseResult RemoveXattr(in FuseInHeader header, ref FuseArgs args)
    {
        if (!args.TryReadString(out ReadOnlySpan<byte> name))
        {
            return Fail(Errno.EINVAL);
        }

        int error = PrepareXattrChange(header.NodeId, name, out Inode inode);
        if (error != 0)
        {
            return Fail(error);
        }

        using SafeFileHandle file = HostFileSystem.Reopen(_procSelfFd, inode.Handle, HostFileSystem.AttributeFlags);
        HostFileSystem.RemoveAttribute(file, name);
        return ReplyEmpty();
    }

    private FuseResult GetXattr(in FuseInHeader header, ref FuseArgs args)
    {
        if (!args.TryRead(out FuseGetXattrIn getxattr) || !args.TryReadString(out ReadOnlySpan<byte> name))
        {
            return Fail(Errno.EINVAL);
        }

        uint size = getxattr.Size;

        if (name.IsEmpty || name.Length > FuseProtocol.MaxNameLength)
        {
            return Fail(Errno.EINVAL);
        }

        if (!TryGetInode(header.NodeId, out Inode inode))
        {
            return Fail(Errno.ENOENT);
        }

        if (!inode.IsRegularFile && !inode.IsDirectory)
        {
            return Fail(Errno.ENODATA);
        }

        using SafeFileHandle file = HostFileSystem.Reopen(_procSelfFd, inode.Handle, HostFileSystem.AttributeFlags);
        return ReplySized(size, HostFileSystem.GetAttribute(file, name, size == 0 ? default : Payload[..(int)Math.Min(size, (uint)FuseProtocol.MaxXattrSize)]));
    }

    private FuseResult ListXattr(in FuseInHeader header, ref FuseArgs args)
    {
        if (!args.TryRead(out FuseGetXattrIn listxattr))
        {
            return Fail(Errno.EINVAL);
        }

        uint size = listxattr.Size;

        if (!TryGetInode(header.NodeId, out Inode inode))
        {
            return Fail(Errno.ENOENT);
        }

        if (!inode.IsRegularFile && !inode.IsDirectory)
        {
            return ReplySized(size, 0);
        }

        using SafeFileHandle file = HostFileSystem.Reopen(_procSelfFd, inode.Handle, HostFileSystem.AttributeFlags);
        return ReplySized(size, HostFileSystem.ListAttributes(file, size == 0 ? default : Payload[..(int)Math.Min(size, (uint)FuseProtocol.MaxXattrSize)]));
    }

    /// <summary>The GETXATTR/LISTXATTR convention: size 0 asks for the length (getxattr_out), else the bytes.</summary>
    private FuseResult ReplySized(uint requested, int length)
    {
        if (requested != 0)
        {
            return FuseResult.Payload(length);
        }

        return Reply(new FuseGetXattrOut { Size = (uint)length });
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

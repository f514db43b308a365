using System.Buffers.Binary;
using Vmm.Plugins.VirtioFs.Fuse;

namespace Vmm.Plugins.VirtioFs.Server;

internal sealed partial class FuseSession
{
    /// <summary>libkrun's <c>VIRTIO_IOC_EXPORT_FD</c> = <c>_IOR('v', 1, 16)</c>: answers <c>{u64 fs_id; u64 handle}</c>.</summary>
    internal const uint ExportFdCommand = 0x8010_7601;

    /// <summary>The size of EXPORT_FD's answer.</summary>
    internal const int ExportFdReplySize = 16;

    /// <summary>
    /// FUSE_IOCTL. Only EXPORT_FD is served: the open file of the handle goes into the plugin's export table, where
    /// cross-domain finds it by (fs_id, handle) for a futex. Every other ioctl is ENOTTY, what a host file answers.
    /// </summary>
    private FuseResult Ioctl(in FuseInHeader header, ref FuseArgs args)
    {
        if (!args.TryRead(out FuseIoctlIn ioctl))
        {
            return Fail(Errno.EINVAL);
        }

        if (ioctl.Command != ExportFdCommand)
        {
            return Fail(Errno.ENOTTY);
        }

        if (ioctl.OutSize != ExportFdReplySize)
        {
            return Fail(Errno.EINVAL);
        }

        if (_connection.Exports is not FileExports exports)
        {
            return Fail(Errno.EOPNOTSUPP);
        }

        if (!_handles.TryGet(ioctl.FileHandle, out OpenHandle handle) || handle.IsDirectory || handle.Inode.NodeId != header.NodeId)
        {
            return Fail(Errno.EBADF);
        }

        if (!exports.Export(ioctl.FileHandle, handle.File))
        {
            return Fail(Errno.EMFILE);
        }

        if (!_handles.TryGet(ioctl.FileHandle, out _))
        {
            // Another queue released the handle meanwhile: its export must not outlive it.
            exports.Release(ioctl.FileHandle);
            return Fail(Errno.EBADF);
        }

        Span<byte> payload = Payload;
        int length = Write(payload, new FuseIoctlOut());
        BinaryPrimitives.WriteUInt64LittleEndian(payload[length..], exports.FileSystemId);
        BinaryPrimitives.WriteUInt64LittleEndian(payload[(length + 8)..], ioctl.FileHandle);
        return FuseResult.Payload(length + ExportFdReplySize);
    }
}

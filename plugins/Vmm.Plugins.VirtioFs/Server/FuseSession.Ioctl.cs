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
    /// FUSE_IOCTL. Only EXPORT_FD is served (<see cref="IFuseFileSystem.ExportFile"/>); every other ioctl is ENOTTY,
    /// what a host file answers.
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

        FuseResult<ulong> fileSystemId = _fs.ExportFile(header.NodeId, ioctl.FileHandle);
        if (fileSystemId.IsError)
        {
            return Fail(fileSystemId.Errno);
        }

        Span<byte> payload = Payload;
        int length = Write(payload, new FuseIoctlOut());
        BinaryPrimitives.WriteUInt64LittleEndian(payload[length..], fileSystemId.Value);
        BinaryPrimitives.WriteUInt64LittleEndian(payload[(length + 8)..], ioctl.FileHandle);
        return FuseResult.Payload(length + ExportFdReplySize);
    }
}

using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Win32.SafeHandles;
using Vmm.Plugins.VirtioFs.Fuse;

namespace Vmm.Plugins.VirtioFs.Tests;

/// <summary>
/// libkrun's VIRTIO_IOC_EXPORT_FD over FUSE_IOCTL: an open file's {fs_id, handle} goes into the plugin's export
/// table (where cross-domain finds futex files), and leaves it on RELEASE and on FUSE_DESTROY; other ioctls and bad
/// arguments get errno replies.
/// </summary>
public sealed class ExportFdTests : IDisposable
{
    private const uint ExportFd = 0x8010_7601;
    private readonly TempShare _share = new();
    private readonly FileExportTable _table = new();
    private readonly FuseTestClient _first;
    private readonly FuseTestClient _second;

    public ExportFdTests()
    {
        _first = Start(_table);
        _second = Start(_table);
    }

    public void Dispose()
    {
        _first.Dispose();
        _second.Dispose();
        _table.Dispose();
        _share.Dispose();
    }

    [Fact]
    public void An_exported_file_is_the_same_open_file_for_another_plugin_until_its_release()
    {
        (ulong node, ulong fh) = CreateFile(_first, "xshmfence-1");
        FuseReply reply = Ioctl(_first, node, fh, ExportFd, 16).Ok();
        Assert.Equal(32, reply.Payload.Length);
        Assert.Equal((0u, 0u, 0u, 0u), (reply.U32(0), reply.U32(4), reply.U32(8), reply.U32(12))); // result, flags, iovs
        (ulong fsId, ulong handle) = (reply.U64(16), reply.U64(24));
        Assert.Equal((0UL, fh), (fsId, handle)); // the first device of the table is fs 0, as libkrun counts

        using (SafeFileHandle exported = Assert.IsType<SafeFileHandle>(_table.OpenExport(fsId, handle)))
        {
            RandomAccess.Write(exported, "word"u8, 0);
        }

        Assert.Equal("word", File.ReadAllText(_share.InShare("xshmfence-1")));
        Assert.Null(_table.OpenExport(fsId + 1, handle));
        Assert.Null(_table.OpenExport(fsId, handle + 1));

        // The second device of the table answers fs 1; exporting twice is the same pair.
        (ulong secondNode, ulong secondFh) = CreateFile(_second, "xshmfence-2");
        Assert.Equal(1UL, Ioctl(_second, secondNode, secondFh, ExportFd, 16).Ok().U64(16));
        Assert.Equal(fsId, Ioctl(_first, node, fh, ExportFd, 16).Ok().U64(16));
        Assert.Equal(2, _table.Count);

        _first.Release(node, fh).Ok();
        Assert.Null(_table.OpenExport(fsId, handle));
        Assert.Equal(1, _table.Count);
    }

    [Fact]
    public void Other_ioctls_and_bad_arguments_get_errno_replies()
    {
        (ulong node, ulong fh) = CreateFile(_first, "f");
        Assert.Equal(-Errno.ENOTTY, Ioctl(_first, node, fh, 0x5401, 60).Error); // TCGETS
        Assert.Equal(-Errno.EINVAL, Ioctl(_first, node, fh, ExportFd, 8).Error);
        Assert.Equal(-Errno.EBADF, Ioctl(_first, node, fh + 100, ExportFd, 16).Error);
        Assert.Equal(-Errno.EBADF, Ioctl(_first, node + 1, fh, ExportFd, 16).Error);
        ulong directory = _first.OpenDir(1).Ok().U64(0);
        Assert.Equal(-Errno.EBADF, Ioctl(_first, 1, directory, ExportFd, 16).Error);
        Assert.Equal(-Errno.EINVAL, _first.Send(FuseOpcode.Ioctl, node, new FuseArgsBuilder().U64(fh).ToArray()).Error);
        Assert.Equal(0, _table.Count);

        // A device without a table (an embedder's) does not export.
        using FuseTestClient alone = Start(null);
        (ulong aloneNode, ulong aloneFh) = CreateFile(alone, "g");
        Assert.Equal(-Errno.EOPNOTSUPP, Ioctl(alone, aloneNode, aloneFh, ExportFd, 16).Error);
    }

    [Fact]
    public void Fuse_destroy_drops_the_exports_of_its_device_only()
    {
        (ulong node, ulong fh) = CreateFile(_first, "a");
        (ulong secondNode, ulong secondFh) = CreateFile(_second, "b");
        Ioctl(_first, node, fh, ExportFd, 16).Ok();
        Ioctl(_second, secondNode, secondFh, ExportFd, 16).Ok();
        Assert.Equal(2, _table.Count);

        _first.Send(FuseOpcode.Destroy, 0, []).Ok();
        Assert.Null(_table.OpenExport(0, fh));
        using SafeFileHandle? kept = _table.OpenExport(1, secondFh);
        Assert.NotNull(kept);
    }

    private FuseTestClient Start(FileExportTable? table)
    {
        FuseTestClient client = FuseTestClient.Start(new VirtioFsDevice("fs0", _share.Share, new VirtioFsOptions(), NullLoggerFactory.Instance, meterFactory: null, table));
        client.Init().Ok();
        return client;
    }

    private static (ulong Node, ulong Fh) CreateFile(FuseTestClient client, string name)
    {
        FuseReply created = client.Create(1, name).Ok();
        return (created.U64(0), created.U64(128));
    }

    /// <summary>FUSE_IOCTL as Linux sends a restricted ioctl: fh, flags 0, cmd, arg, in_size 0, out_size.</summary>
    private static FuseReply Ioctl(FuseTestClient client, ulong node, ulong fh, uint command, uint outSize)
        => client.Send(FuseOpcode.Ioctl, node, new FuseArgsBuilder().U64(fh).U32(0).U32(command).U64(0).U32(0).U32(outSize).ToArray());
}

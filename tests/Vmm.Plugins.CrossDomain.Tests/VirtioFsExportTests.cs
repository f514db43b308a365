using System.Buffers.Binary;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Vmm.Contracts.Virtio;
using Vmm.Plugins.VirtioFs;
using Vmm.Testing.Driver;
using Vmm.Testing.InProcess;

namespace Vmm.Plugins.CrossDomain.Tests;

/// <summary>
/// The two plugins together, as muvm's bridge uses them: the guest opens an xshmfence file through virtio-fs,
/// exports it with VIRTIO_IOC_EXPORT_FD (FUSE_IOCTL), and names the {fs_id, handle} it got in FUTEX_NEW; the
/// cross-domain context finds the file in virtio-fs's export table and forwards wakes on it.
/// </summary>
public sealed class VirtioFsExportTests : IDisposable
{
    private const uint FuseLookup = 1;
    private const uint FuseOpen = 14;
    private const uint FuseRelease = 18;
    private const uint FuseInit = 26;
    private const uint FuseIoctl = 39;
    private const uint ExportFd = 0x8010_7601;
    private const byte FutexSignal = 9;

    private readonly DirectoryInfo _share = Directory.CreateTempSubdirectory("vmm-xdomain-fs-");
    private readonly FileExportTable _table = new();
    private readonly InProcessMachine _fsMachine = new(64UL << 20);
    private readonly VirtioPciDriver _fs;
    private readonly GuestBuffer _request;
    private readonly GuestBuffer _reply;
    private ulong _unique = 2;

    public VirtioFsExportTests()
    {
        _fsMachine.AttachVirtioDevice(new VirtioFsDevice("fs0", _share.FullName, new VirtioFsOptions(), NullLoggerFactory.Instance, null, _table));
        _fs = VirtioPciDriver.Open(_fsMachine, VirtioDeviceType.FileSystem);
        _fs.Initialize();
        _request = _fsMachine.AllocateBuffer(8192);
        _reply = _fsMachine.AllocateBuffer(8192);
    }

    public void Dispose()
    {
        _fsMachine.Dispose();
        _table.Dispose();
        _share.Delete(recursive: true);
    }

    [Fact]
    public void A_file_exported_through_virtio_fs_is_the_futex_cross_domain_forwards_until_its_release()
    {
        const uint id = 0x5eed_0020;
        using var fence = new SharedFutexFile(directory: _share.FullName);
        Assert.Equal(0, Fuse(FuseInit, 0, [.. U32(7), .. U32(37), .. U32(128 * 1024), .. U32(0), .. new byte[48]]).Error);
        ulong node = BinaryPrimitives.ReadUInt64LittleEndian(Fuse(FuseLookup, 1, Encoding.UTF8.GetBytes(Path.GetFileName(fence.Path) + "\0")).Payload);
        ulong fh = BinaryPrimitives.ReadUInt64LittleEndian(Fuse(FuseOpen, node, [.. U32(2), .. U32(0)]).Payload); // O_RDWR
        (int error, byte[] exported) = Fuse(FuseIoctl, node, [.. U64(fh), .. U32(0), .. U32(ExportFd), .. U64(0), .. U32(0), .. U32(16)]);
        Assert.Equal(0, error);
        ulong fsId = BinaryPrimitives.ReadUInt64LittleEndian(exported.AsSpan(16));
        ulong handle = BinaryPrimitives.ReadUInt64LittleEndian(exported.AsSpan(24));

        using var guest = TestGuests.Create(new CrossDomainSettings(exports: [_table]));
        guest.Open(0);
        Assert.Equal(CrossDomainCommands.OkNoData, guest.Submit(CrossDomainCommands.FutexNew(fsId, handle, id)));
        guest.WaitForFutexSignal(id);

        // The host side (the X server's xshmfence) maps the same file: its wake reaches the guest.
        fence.Word = 1;
        fence.Wake();
        guest.WaitForFutexSignal(id);

        // After RELEASE the export is gone: a new FUTEX_NEW cannot name it, the futex made before still works.
        Assert.Equal(0, Fuse(FuseRelease, node, [.. U64(fh), .. U32(0), .. U32(0), .. U64(0)]).Error);
        Assert.Equal(CrossDomainCommands.ErrInvalidParameter, guest.Submit(CrossDomainCommands.FutexNew(fsId, handle, id + 1)));
        Assert.Equal(CrossDomainCommands.OkNoData, guest.Submit(CrossDomainCommands.IdCommand(FutexSignal, id)));
        Assert.Equal(0, _table.Count);
    }

    /// <summary>One FUSE request on request queue 1; returns fuse_out_header.error and the payload.</summary>
    private (int Error, byte[] Payload) Fuse(uint opcode, ulong node, byte[] args)
    {
        byte[] request = new byte[40 + args.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(request, (uint)request.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(request.AsSpan(4), opcode);
        BinaryPrimitives.WriteUInt64LittleEndian(request.AsSpan(8), _unique += 2);
        BinaryPrimitives.WriteUInt64LittleEndian(request.AsSpan(16), node);
        args.CopyTo(request.AsSpan(40));
        _fsMachine.Memory.Write(_request.Address, request);
        _fs.Submit(1, [_request with { Length = (uint)request.Length }], [_reply]);
        (_, uint used) = _fs.WaitForUsed(1, TimeSpan.FromSeconds(15));
        byte[] reply = _fsMachine.Memory.GetSpan(_reply.Address, (int)used).ToArray();
        return (BinaryPrimitives.ReadInt32LittleEndian(reply.AsSpan(4)), reply[16..]);
    }

    private static byte[] U32(uint value) => BitConverter.GetBytes(value);

    private static byte[] U64(ulong value) => BitConverter.GetBytes(value);
}

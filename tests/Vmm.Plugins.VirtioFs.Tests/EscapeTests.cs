using System.Buffers.Binary;
using System.Text;
using Vmm.Plugins.VirtioFs.Fuse;

namespace Vmm.Plugins.VirtioFs.Tests;

/// <summary>
/// Escape attempts as raw FUSE requests a malicious guest kernel could send. Each must fail with an errno reply,
/// the device must keep answering, and nothing outside the share may change or be read.
/// </summary>
public sealed class EscapeTests : IDisposable
{
    private readonly TempShare _share = new();
    private readonly FuseTestClient _client;
    private readonly string _outsideBefore;

    public EscapeTests()
    {
        Directory.CreateDirectory(_share.InShare("dir"));
        File.WriteAllText(_share.InShare("dir/inside"), "inside");
        File.CreateSymbolicLink(_share.InShare("abs"), _share.Outside);
        File.CreateSymbolicLink(_share.InShare("rel"), "../outside");
        File.CreateSymbolicLink(_share.InShare("secretlink"), Path.Combine(_share.Outside, "secret"));
        _outsideBefore = _share.SnapshotOutside();
        _client = FuseTestClient.Start(_share.Share);
        _client.Init().Ok();
    }

    public void Dispose()
    {
        // Every test ends with the device still answering and the outside untouched.
        _client.GetAttr(1).Ok();
        Assert.Equal(_outsideBefore, _share.SnapshotOutside());
        _client.Dispose();
        _share.Dispose();
    }

    [Fact]
    public void DotDotAtTheRootIsTheRoot()
    {
        FuseReply reply = _client.Lookup(1, "..").Ok();
        Assert.Equal(1ul, reply.U64(0));
        ulong rootIno = _client.GetAttr(1).Ok().U64(16);
        Assert.Equal(rootIno, reply.U64(40));
    }

    [Fact]
    public void DotDotBelowTheRootOnlyNamesKnownNodes()
    {
        ulong dir = _client.LookupNode(1, "dir");
        Assert.Equal(1ul, _client.Lookup(dir, "..").Ok().U64(0));
    }

    [Theory]
    [InlineData("../outside")]
    [InlineData("../outside/secret")]
    [InlineData("dir/inside")]
    [InlineData("/etc/passwd")]
    [InlineData("/")]
    [InlineData("")]
    [InlineData(".")]
    public void NamesWithSlashesOrDotsAreRefusedForEveryOperation(string name)
    {
        if (name != ".")
        {
            Assert.Equal(-Errno.EINVAL, _client.Lookup(1, name).Error);
        }

        Assert.Equal(-Errno.EINVAL, _client.Create(1, name).Error);
        Assert.Equal(-Errno.EINVAL, _client.MkDir(1, name).Error);
        Assert.Equal(-Errno.EINVAL, _client.Unlink(1, name).Error);
        Assert.Equal(-Errno.EINVAL, _client.RmDir(1, name).Error);
        Assert.Equal(-Errno.EINVAL, _client.Rename(1, "dir", 1, name).Error);
        Assert.Equal(-Errno.EINVAL, _client.Symlink(1, name, "x").Error);
        Assert.True(Directory.Exists(_share.InShare("dir")));
    }

    [Fact]
    public void ANameTooLongIsRefused()
        => Assert.Equal(-Errno.ENAMETOOLONG, _client.Create(1, new string('a', 256)).Error);

    [Theory]
    [InlineData("abs")]
    [InlineData("rel")]
    public void ASymlinkNodeIsNeverADirectory(string link)
    {
        FuseReply reply = _client.Lookup(1, link).Ok();
        Assert.Equal(0xA000u, reply.U32(40 + 60) & 0xF000);
        ulong node = reply.U64(0);
        Assert.Equal(-Errno.ENOTDIR, _client.Lookup(node, "secret").Error);
        Assert.Equal(-Errno.ENOTDIR, _client.Create(node, "planted").Error);
        Assert.Equal(-Errno.ENOTDIR, _client.MkDir(node, "planted").Error);
        Assert.Equal(-Errno.ENOTDIR, _client.Unlink(node, "secret").Error);
        Assert.Equal(-Errno.ENOTDIR, _client.Rename(1, "dir", node, "moved").Error);
        Assert.Equal(-Errno.ENOTDIR, _client.Link(_client.LookupNode(1, "dir"), node, "x").Error);
        Assert.Equal(-Errno.ENOTDIR, _client.OpenDir(node).Error);
    }

    [Fact]
    public void ASymlinkToAnOutsideFileIsNeverOpenedOrCreatedThrough()
    {
        ulong node = _client.LookupNode(1, "secretlink");
        Assert.Equal(-Errno.EACCES, _client.Open(node, 0).Error);
        Assert.Equal(-Errno.EACCES, _client.Open(node, 2).Error);
        Assert.Equal(-Errno.EINVAL, _client.Truncate(node, 0).Error);

        // CREATE over the symlink's name (without O_EXCL, as a guest racing its own lookup would).
        FuseReply create = _client.Create(1, "secretlink", flags: 0x241);
        Assert.True(create.Error < 0);

        FuseReply readlink = _client.Send(FuseOpcode.ReadLink, node, []).Ok();
        Assert.Equal(Path.Combine(_share.Outside, "secret"), Encoding.UTF8.GetString(readlink.Payload));
    }

    [Fact]
    public void HardLinkingASymlinkLinksTheSymlinkNotItsTarget()
    {
        ulong node = _client.LookupNode(1, "secretlink");
        FuseReply link = _client.Link(node, 1, "hl").Ok();
        Assert.Equal(node, link.U64(0));
        Assert.Equal(0xA000u, link.U32(40 + 60) & 0xF000);
        Assert.Equal(Path.Combine(_share.Outside, "secret"), new FileInfo(_share.InShare("hl")).LinkTarget);
    }

    [Fact]
    public void ProcSelfFdPathsAreJustMissingNames()
    {
        Assert.Equal(-Errno.EINVAL, _client.Lookup(1, "/proc/self/fd/3").Error);
        Assert.Equal(-Errno.ENOENT, _client.Lookup(1, "proc").Error);
    }

    [Fact]
    public void ForgedNodeIdsAndHandlesAreRefused()
    {
        foreach (ulong forged in new ulong[] { 0, 2, 999, ulong.MaxValue, 0x8000_0000_0000_0000 })
        {
            Assert.Equal(-Errno.ENOENT, _client.GetAttr(forged).Error);
            Assert.Equal(-Errno.ENOENT, _client.Lookup(forged, "x").Error);
            Assert.Equal(-Errno.ENOENT, _client.Open(forged, 0).Error);
            Assert.Equal(-Errno.ENOENT, _client.Link(forged, 1, "x").Error);
            Assert.Equal(-Errno.EBADF, _client.Read(1, forged, 0, 10).Error);
            Assert.Equal(-Errno.EBADF, _client.Write(1, forged, 0, "x"u8).Error);
            Assert.Equal(-Errno.EBADF, _client.Release(1, forged).Error);
            Assert.Equal(-Errno.EBADF, _client.ReadDir(1, forged, 0, 4096, plus: true).Error);
        }

        // A directory handle is not a file handle, and the reverse.
        ulong dirFh = _client.OpenDir(1).Ok().U64(0);
        Assert.Equal(-Errno.EBADF, _client.Read(1, dirFh, 0, 10).Error);
        FuseReply created = _client.Create(1, "f").Ok();
        Assert.Equal(-Errno.EBADF, _client.ReadDir(1, created.U64(128), 0, 4096, plus: false).Error);
    }

    [Fact]
    public void HugeOrNegativeOffsetsAndSizesAreRefused()
    {
        FuseReply created = _client.Create(1, "f").Ok();
        ulong node = created.U64(0);
        ulong fh = created.U64(128);
        Assert.Equal(-Errno.EINVAL, _client.Read(node, fh, ulong.MaxValue, 10).Error);
        Assert.Equal(-Errno.EINVAL, _client.Read(node, fh, 0x8000_0000_0000_0000, 10).Error);
        Assert.Equal(-Errno.EFBIG, _client.Write(node, fh, long.MaxValue - 2, "abcdef"u8).Error);
        Assert.Equal(-Errno.EFBIG, _client.Write(node, fh, ulong.MaxValue, "a"u8).Error);
        Assert.Equal(-Errno.EINVAL, _client.Truncate(node, ulong.MaxValue).Error);

        // READ asking for 4 GiB gets at most what the writable part holds.
        FuseReply read = _client.Read(node, fh, 0, uint.MaxValue).Ok();
        Assert.Empty(read.Payload);

        // WRITE whose size disagrees with the bytes actually sent.
        byte[] args = new FuseArgsBuilder().U64(fh).U64(0).U32(1000).U32(0).U64(0).U32(0).U32(0).Bytes("short"u8).ToArray();
        Assert.Equal(-Errno.EINVAL, _client.Send(FuseOpcode.Write, node, args).Error);
        Assert.Equal(0, new FileInfo(_share.InShare("f")).Length);
    }

    [Fact]
    public void ForgedHeaderLengthsGetErrorsOrNothingAndTheDeviceGoesOn()
    {
        byte[] request = new byte[48];
        BinaryPrimitives.WriteUInt32LittleEndian(request, 4096);
        BinaryPrimitives.WriteUInt32LittleEndian(request.AsSpan(4), (uint)FuseOpcode.GetAttr);
        BinaryPrimitives.WriteUInt64LittleEndian(request.AsSpan(8), 77);
        BinaryPrimitives.WriteUInt64LittleEndian(request.AsSpan(16), 1);
        FuseReply tooLong = _client.SendRaw(request, 4096);
        Assert.Equal(-Errno.EINVAL, tooLong.Error);
        Assert.Equal(77ul, tooLong.Unique);
        Assert.Equal(16u, tooLong.Length);

        BinaryPrimitives.WriteUInt32LittleEndian(request, 12);
        Assert.Equal(-Errno.EINVAL, _client.SendRaw(request, 4096).Error);

        // Shorter than a header: nothing to answer, the chain just comes back.
        Assert.Equal(0u, _client.SendRaw(request.AsSpan(0, 20), 4096).UsedLength);

        // Room for less than a fixed-size reply: an error, never a short struct.
        BinaryPrimitives.WriteUInt32LittleEndian(request, 48);
        FuseReply cramped = _client.SendRaw(request, 40);
        Assert.Equal(-Errno.EINVAL, cramped.Error);
        Assert.Equal(16u, cramped.UsedLength);

        // No room for even the out-header.
        Assert.Equal(0u, _client.SendRaw(request, 8).UsedLength);
    }

    [Fact]
    public void TruncatedArgumentsAndUnknownOpcodesGetErrors()
    {
        Assert.Equal(-Errno.EINVAL, _client.Send(FuseOpcode.Lookup, 1, "noterminator"u8).Error);
        Assert.Equal(-Errno.EINVAL, _client.Send(FuseOpcode.Rename, 1, new FuseArgsBuilder().U64(1).Name("dir").ToArray()).Error);
        Assert.Equal(-Errno.EINVAL, _client.Send(FuseOpcode.SetAttr, 1, new byte[10]).Error);
        Assert.Equal(-Errno.EINVAL, _client.Send(FuseOpcode.Read, 1, new byte[12]).Error);
        Assert.Equal(-Errno.ENOSYS, _client.Send((FuseOpcode)9999, 1, []).Error);
        Assert.Equal(-Errno.ENOSYS, _client.Send(FuseOpcode.GetLk, 1, new byte[48]).Error);
        Assert.Equal(-Errno.EINVAL, _client.Rename2(1, "dir", 1, "dir2", flags: 0x80).Error);
        Assert.Equal(-Errno.EINVAL, _client.Send(FuseOpcode.RemoveMapping, 1, new FuseArgsBuilder().U32(uint.MaxValue).ToArray()).Error);

        // A BATCH_FORGET claiming far more entries than it carries is consumed quietly.
        byte[] batch = new FuseArgsBuilder().U32(uint.MaxValue).U32(0).U64(1).U64(1).ToArray();
        Assert.Equal(0u, _client.SendRaw(Header(FuseOpcode.BatchForget, 1, batch), 0, FuseTestClient.HiprioQueue).UsedLength);
        Assert.True(Directory.Exists(_share.InShare("dir")));
    }

    [Fact]
    public void HardLinksOfDirectoriesAndDeviceNodesAreRefused()
    {
        ulong dir = _client.LookupNode(1, "dir");
        Assert.Equal(-Errno.EPERM, _client.Link(dir, 1, "dirlink").Error);

        // deviceNodes: false refuses device nodes outright (by default they are made, never opened: PosixTests).
        using (FuseTestClient restricted = FuseTestClient.Start(_share.Share, new VirtioFsOptions { DeviceNodes = false }))
        {
            restricted.Init().Ok();
            byte[] mknod = new FuseArgsBuilder().U32(0x2000 | 0x1B6).U32((1 << 8) | 3).U32(0).U32(0).Name("null").ToArray();
            Assert.Equal(-Errno.EPERM, restricted.Send(FuseOpcode.MkNod, 1, mknod).Error);
            Assert.False(File.Exists(_share.InShare("null")));
        }

        byte[] fifo = new FuseArgsBuilder().U32(0x1000 | 0x1B6).U32(0).U32(0).U32(0).Name("fifo").ToArray();
        ulong fifoNode = _client.Send(FuseOpcode.MkNod, 1, fifo).Ok().U64(0);
        Assert.Equal(-Errno.EACCES, _client.Open(fifoNode, 0).Error);
    }

    [Fact]
    public void SetUidBitsAndHostOnlyXattrsCannotBePlanted()
    {
        // keepSetId: false strips set-ID bits from every mode (by default they are kept as the kernel keeps them: PosixTests).
        using (FuseTestClient restricted = FuseTestClient.Start(_share.Share, new VirtioFsOptions { KeepSetId = false }))
        {
            restricted.Init().Ok();
            FuseReply suid = restricted.Create(1, "suid", mode: 0x8000 | 0xDED).Ok();
            Assert.Equal(0u, suid.U32(40 + 60) & 0xC00);
            Assert.Equal(0u, (uint)File.GetUnixFileMode(_share.InShare("suid")) & 0xC00);
            byte[] setattr = new FuseArgsBuilder().U32(1).U32(0).U64(0).U64(0).U64(0).U64(0).U64(0).U64(0).U32(0).U32(0).U32(0).U32(0x8000 | 0xFED).Zeros(16).ToArray();
            Assert.Equal(0u, restricted.Send(FuseOpcode.SetAttr, suid.U64(0), setattr).Ok().U32(16 + 60) & 0x800);
        }

        FuseReply created = _client.Create(1, "plain").Ok();

        byte[] capability = new FuseArgsBuilder().U32(4).U32(0).Name("security.capability").Bytes([1, 2, 3, 4]).ToArray();
        Assert.Equal(-Errno.EOPNOTSUPP, _client.Send(FuseOpcode.SetXattr, created.U64(0), capability).Error);
        byte[] trusted = new FuseArgsBuilder().U32(1).U32(0).Name("trusted.x").Bytes([1]).ToArray();
        Assert.Equal(-Errno.EOPNOTSUPP, _client.Send(FuseOpcode.SetXattr, created.U64(0), trusted).Error);
    }

    [Fact]
    public void RequestsBeforeInitFail()
    {
        using var fresh = FuseTestClient.Start(_share.Share);
        Assert.Equal(-Errno.EIO, fresh.GetAttr(1).Error);
        fresh.Init().Ok();
        fresh.GetAttr(1).Ok();
    }

    private static byte[] Header(FuseOpcode opcode, ulong node, byte[] args)
    {
        byte[] request = new byte[40 + args.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(request, (uint)request.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(request.AsSpan(4), (uint)opcode);
        BinaryPrimitives.WriteUInt64LittleEndian(request.AsSpan(16), node);
        args.CopyTo(request, 40);
        return request;
    }
}

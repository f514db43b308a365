using System.Text;
using Vmm.Plugins.VirtioFs.Fuse;

namespace Vmm.Plugins.VirtioFs.Tests;

/// <summary>File operations through the in-process PCI driver, checked against the host directory.</summary>
public sealed class FileOperationTests : IDisposable
{
    private readonly TempShare _share = new();
    private readonly FuseTestClient _client;

    public FileOperationTests()
    {
        _client = FuseTestClient.Start(_share.Share);
        _client.Init().Ok();
    }

    public void Dispose()
    {
        _client.Dispose();
        _share.Dispose();
    }

    [Fact]
    public void CreateWriteReadRoundTripsThroughTheHostFile()
    {
        FuseReply created = _client.Create(1, "hello.txt").Ok();
        Assert.Equal(144, created.Payload.Length);
        ulong node = created.U64(0);
        ulong fh = created.U64(128);
        Assert.True(node > 1);
        Assert.Equal(0x8000u, created.U32(40 + 60) & 0xF000);

        byte[] data = Encoding.UTF8.GetBytes("hello from the guest");
        FuseReply written = _client.Write(node, fh, 0, data).Ok();
        Assert.Equal((uint)data.Length, written.U32(0));
        Assert.Equal("hello from the guest", File.ReadAllText(_share.InShare("hello.txt")));

        FuseReply read = _client.Read(node, fh, 6, 100).Ok();
        Assert.Equal("from the guest", Encoding.UTF8.GetString(read.Payload));
        Assert.Equal(16u + 14u, read.UsedLength);
        _client.Release(node, fh).Ok();
        Assert.Equal(-Errno.EBADF, _client.Release(node, fh).Error);
    }

    [Fact]
    public void LargeWritesAndReadsSpanManyDescriptorsIntact()
    {
        byte[] data = new byte[1 << 20];
        new Random(42).NextBytes(data);
        FuseReply created = _client.Create(1, "big.bin").Ok();
        ulong node = created.U64(0);
        ulong fh = created.U64(128);
        Assert.Equal((uint)data.Length, _client.Write(node, fh, 4096, data).Ok().U32(0));
        Assert.Equal(data, File.ReadAllBytes(_share.InShare("big.bin")).AsSpan(4096).ToArray());

        FuseReply read = _client.Read(node, fh, 4096, 1 << 20, replyRoom: (1 << 20) + 16).Ok();
        Assert.Equal(data, read.Payload);
    }

    [Fact]
    public void PayloadsSplitIntoOddDescriptorsArriveIntact()
    {
        FuseReply created = _client.Create(1, "split.bin").Ok();
        ulong node = created.U64(0);
        ulong fh = created.U64(128);
        byte[] data = new byte[300_001];
        new Random(3).NextBytes(data);
        byte[] args = new FuseArgsBuilder().U64(fh).U64(5).U32((uint)data.Length).U32(0).U64(0).U32(0).U32(0).Bytes(data).ToArray();
        byte[] request = new byte[40 + args.Length];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(request, (uint)request.Length);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(request.AsSpan(4), (uint)FuseOpcode.Write);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(request.AsSpan(16), node);
        args.CopyTo(request, 40);

        // Header and write_in split mid-struct, then 4000-byte pieces: nothing lines up with a struct or a page.
        FuseReply written = _client.SendRaw(request, 64, pieceSize: 4000, headerPart: 17).Ok();
        Assert.Equal((uint)data.Length, written.U32(0));
        Assert.Equal(data, File.ReadAllBytes(_share.InShare("split.bin")).AsSpan(5).ToArray());

        byte[] read = new FuseArgsBuilder().U64(fh).U64(5).U32((uint)data.Length).U32(0).U64(0).U32(0).U32(0).ToArray();
        byte[] readRequest = new byte[40 + read.Length];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(readRequest, (uint)readRequest.Length);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(readRequest.AsSpan(4), (uint)FuseOpcode.Read);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(readRequest.AsSpan(16), node);
        read.CopyTo(readRequest, 40);
        FuseReply back = _client.SendRaw(readRequest, 16 + data.Length, pieceSize: 3001).Ok();
        Assert.Equal(data, back.Payload);
    }

    [Fact]
    public void LookupFindsHostFilesAndHardLinksShareOneNode()
    {
        File.WriteAllText(_share.InShare("a"), "x");
        ulong a = _client.LookupNode(1, "a");
        FuseReply link = _client.Link(a, 1, "b").Ok();
        Assert.Equal(a, link.U64(0));
        Assert.Equal(2u, link.U32(40 + 64));
        Assert.True(File.Exists(_share.InShare("b")));
        Assert.Equal(a, _client.LookupNode(1, "b"));
        Assert.Equal(-Errno.ENOENT, _client.Lookup(1, "missing").Error);
    }

    [Fact]
    public void DirectoriesRenameAndUnlinkChangeTheHost()
    {
        ulong dir = _client.MkDir(1, "d").Ok().U64(0);
        Assert.True(Directory.Exists(_share.InShare("d")));
        FuseReply created = _client.Create(dir, "f").Ok();
        _client.Release(created.U64(0), created.U64(128)).Ok();

        _client.Rename(dir, "f", 1, "g").Ok();
        Assert.False(File.Exists(_share.InShare("d/f")));
        Assert.True(File.Exists(_share.InShare("g")));

        Assert.Equal(-Errno.EEXIST, _client.Rename2(1, "g", 1, "d", flags: 1).Error);
        _client.Unlink(1, "g").Ok();
        Assert.False(File.Exists(_share.InShare("g")));
        _client.RmDir(1, "d").Ok();
        Assert.False(Directory.Exists(_share.InShare("d")));
    }

    [Fact]
    public void ReadDirPlusListsEveryEntryWithNodesAndCookiesResume()
    {
        for (int i = 0; i < 40; i++)
        {
            File.WriteAllText(_share.InShare($"file{i:D2}"), "x");
        }

        ulong fh = _client.OpenDir(1).Ok().U64(0);
        var names = new List<string>();
        ulong offset = 0;
        int rounds = 0;
        while (true)
        {
            FuseReply reply = _client.ReadDir(1, fh, offset, 1024, plus: true).Ok();
            if (reply.Payload.Length == 0)
            {
                break;
            }

            foreach ((string name, ulong nodeId, ulong next, _) in FuseTestClient.ParseDirents(reply.Payload, plus: true))
            {
                names.Add(name);
                Assert.True(name is "." or ".." ? nodeId == 0 : nodeId > 1, $"{name} -> {nodeId}");
                offset = next;
            }

            rounds++;
        }

        Assert.True(rounds > 1, "1 KiB replies must need several rounds");
        Assert.Equal(42, names.Count);
        Assert.Equal(Enumerable.Range(0, 40).Select(i => $"file{i:D2}").Concat([".", ".."]).Order(), names.Order());
        _client.Release(1, fh, directory: true).Ok();
    }

    [Fact]
    public void ForgetDropsNodesOnlyWhenEveryLookupIsGivenBack()
    {
        File.WriteAllText(_share.InShare("a"), "x");
        ulong a = _client.LookupNode(1, "a");
        Assert.Equal(a, _client.LookupNode(1, "a"));
        _client.Forget(a, 1);
        _client.GetAttr(a).Ok();
        _client.Forget(a, 1);
        Assert.Equal(-Errno.ENOENT, _client.GetAttr(a).Error);

        ulong again = _client.LookupNode(1, "a");
        Assert.True(again > a, "node ids are never reused");
    }

    [Fact]
    public void SymlinksAreStoredAndReadButNeverFollowed()
    {
        FuseReply symlink = _client.Symlink(1, "l", "../outside/secret").Ok();
        Assert.Equal(0xA000u, symlink.U32(40 + 60) & 0xF000);
        Assert.Equal("../outside/secret", new FileInfo(_share.InShare("l")).LinkTarget);
        FuseReply target = _client.Send(FuseOpcode.ReadLink, symlink.U64(0), []).Ok();
        Assert.Equal("../outside/secret", Encoding.UTF8.GetString(target.Payload));
    }

    [Fact]
    public void TruncateStatFsAndXattrsWork()
    {
        File.WriteAllText(_share.InShare("t"), "0123456789");
        ulong t = _client.LookupNode(1, "t");
        FuseReply attr = _client.Truncate(t, 4).Ok();
        Assert.Equal(104, attr.Payload.Length);
        Assert.Equal(4ul, attr.U64(16 + 8));
        Assert.Equal("0123", File.ReadAllText(_share.InShare("t")));

        FuseReply statfs = _client.Send(FuseOpcode.StatFs, 1, []).Ok();
        Assert.Equal(80, statfs.Payload.Length);
        Assert.True(statfs.U64(0) > 0);

        byte[] value = Encoding.UTF8.GetBytes("v1");
        FuseReply set = _client.Send(FuseOpcode.SetXattr, t, new FuseArgsBuilder().U32((uint)value.Length).U32(0).Name("user.test").Bytes(value).ToArray());
        if (set.Error == -Errno.EOPNOTSUPP)
        {
            Assert.Skip("The host file system under the temp folder does not support user xattrs.");
        }

        set.Ok();
        FuseReply size = _client.Send(FuseOpcode.GetXattr, t, new FuseArgsBuilder().U32(0).U32(0).Name("user.test").ToArray()).Ok();
        Assert.Equal(2u, size.U32(0));
        FuseReply got = _client.Send(FuseOpcode.GetXattr, t, new FuseArgsBuilder().U32(64).U32(0).Name("user.test").ToArray()).Ok();
        Assert.Equal("v1", Encoding.UTF8.GetString(got.Payload));
        FuseReply list = _client.Send(FuseOpcode.ListXattr, t, new FuseArgsBuilder().U32(256).U32(0).ToArray()).Ok();
        Assert.Contains("user.test", Encoding.UTF8.GetString(list.Payload).Split('\0'));
        _client.Send(FuseOpcode.RemoveXattr, t, new FuseArgsBuilder().Name("user.test").ToArray()).Ok();
        Assert.Equal(-Errno.ENODATA, _client.Send(FuseOpcode.GetXattr, t, new FuseArgsBuilder().U32(64).U32(0).Name("user.test").ToArray()).Error);
    }

    [Fact]
    public void FsyncFlushFallocateLseekAndCopyFileRangeWork()
    {
        FuseReply a = _client.Create(1, "a").Ok();
        FuseReply b = _client.Create(1, "b").Ok();
        _client.Write(a.U64(0), a.U64(128), 0, Encoding.UTF8.GetBytes("copy me")).Ok();
        _client.Send(FuseOpcode.FSync, a.U64(0), new FuseArgsBuilder().U64(a.U64(128)).U32(1).U32(0).ToArray()).Ok();
        _client.Send(FuseOpcode.Flush, a.U64(0), new FuseArgsBuilder().U64(a.U64(128)).U32(0).U32(0).U64(0).ToArray()).Ok();
        FuseReply copied = _client.Send(FuseOpcode.CopyFileRange, a.U64(0),
            new FuseArgsBuilder().U64(a.U64(128)).U64(0).U64(b.U64(0)).U64(b.U64(128)).U64(0).U64(7).U64(0).ToArray()).Ok();
        Assert.Equal(7u, copied.U32(0));
        Assert.Equal("copy me", File.ReadAllText(_share.InShare("b")));

        _client.Send(FuseOpcode.Fallocate, b.U64(0), new FuseArgsBuilder().U64(b.U64(128)).U64(0).U64(8192).U32(0).U32(0).ToArray()).Ok();
        Assert.Equal(8192, new FileInfo(_share.InShare("b")).Length);
        FuseReply data = _client.Send(FuseOpcode.LSeek, b.U64(0), new FuseArgsBuilder().U64(b.U64(128)).U64(0).U32(3).U32(0).ToArray()).Ok();
        Assert.Equal(0ul, data.U64(0));
        _client.Send(FuseOpcode.SyncFs, 1, new FuseArgsBuilder().U64(0).ToArray()).Ok();
    }

    [Fact]
    public void ReadOnlyShareRefusesChanges()
    {
        File.WriteAllText(_share.InShare("r"), "keep");
        using var client = FuseTestClient.Start(_share.Share, new VirtioFsOptions { ReadOnly = true });
        client.Init().Ok();
        ulong r = client.LookupNode(1, "r");
        Assert.Equal(-Errno.EROFS, client.Create(1, "new").Error);
        Assert.Equal(-Errno.EROFS, client.MkDir(1, "d").Error);
        Assert.Equal(-Errno.EROFS, client.Unlink(1, "r").Error);
        Assert.Equal(-Errno.EROFS, client.Open(r, 2).Error);
        Assert.Equal(-Errno.EROFS, client.Truncate(r, 0).Error);
        ulong fh = client.Open(r, 0).Ok().U64(0);
        Assert.Equal("keep", Encoding.UTF8.GetString(client.Read(r, fh, 0, 10).Ok().Payload));
        Assert.Equal(-Errno.EROFS, client.Write(r, fh, 0, "x"u8).Error);
        Assert.Equal("keep", File.ReadAllText(_share.InShare("r")));
    }
}

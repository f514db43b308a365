using System.Buffers.Binary;
using Microsoft.Extensions.Logging.Abstractions;
using Vmm.Contracts.Virtio;
using Vmm.Core.Memory;
using Vmm.Plugins.VirtioFs.Fuse;
using Vmm.Plugins.VirtioFs.Server;

namespace Vmm.Plugins.VirtioFs.Tests;

/// <summary>
/// The FUSE server against <see cref="FakeFileSystem"/>, with no host file behind it: the session only decodes,
/// dispatches to <see cref="IFuseFileSystem"/> and encodes, so these pin the wire side of the split alone.
/// </summary>
public sealed class FuseServerTests : IDisposable
{
    private const ulong RequestAddress = 0x1000;
    private const ulong ReplyAddress = 0x20000;

    private readonly GuestMemory _memory = GuestMemory.Create(1 << 20);
    private readonly DescriptorChain _chain;
    private readonly FakeFileSystem _fs = new();
    private readonly FuseSession _session;

    public FuseServerTests()
    {
        _chain = new DescriptorChain(_memory, 8);
        _session = new FuseSession("fake", new FuseConnection(_fs), NullLogger.Instance, ownsConnection: true);
    }

    public void Dispose()
    {
        _session.Dispose();
        _memory.Dispose();
    }

    [Fact]
    public void RequestsBeforeInitAreRefusedWithoutReachingTheFileSystem()
    {
        (int error, _) = Send(FuseOpcode.Lookup, 1, new FuseArgsBuilder().Name("hello").ToArray());
        Assert.Equal(-Errno.EIO, error);
        Assert.Empty(_fs.Calls);
    }

    [Fact]
    public void LookupGetAttrOpenAndReadAreDecodedAndEncoded()
    {
        Init();
        (int error, byte[] entry) = Send(FuseOpcode.Lookup, 1, new FuseArgsBuilder().Name("hello").ToArray(), uid: 1000, gid: 100, pid: 77);
        Assert.Equal(0, error);
        Assert.Equal(FuseProtocol.EntryOutSize, entry.Length);
        Assert.Equal(FakeFileSystem.FileNode, BinaryPrimitives.ReadUInt64LittleEndian(entry));
        Assert.Equal(5UL, BinaryPrimitives.ReadUInt64LittleEndian(entry.AsSpan(16)));
        Assert.Equal(42UL, BinaryPrimitives.ReadUInt64LittleEndian(entry.AsSpan(40)));
        Assert.Equal("lookup hello", _fs.Calls[^1]);
        Assert.Equal(new FuseContext(1000, 100, 77, 0), _fs.LastContext);

        (error, byte[] attr) = Send(FuseOpcode.GetAttr, FakeFileSystem.FileNode, new FuseArgsBuilder().U32(0).U32(0).U64(0).ToArray());
        Assert.Equal(0, error);
        Assert.Equal(FuseProtocol.AttrOutSize, attr.Length);
        Assert.Equal(11UL, BinaryPrimitives.ReadUInt64LittleEndian(attr.AsSpan(16 + 8)));

        (error, byte[] open) = Send(FuseOpcode.Open, FakeFileSystem.FileNode, new FuseArgsBuilder().U32(0).U32(0).ToArray());
        Assert.Equal(0, error);
        Assert.Equal(FakeFileSystem.FileHandle, BinaryPrimitives.ReadUInt64LittleEndian(open));
        Assert.Equal(FuseProtocol.FopenKeepCache, BinaryPrimitives.ReadUInt32LittleEndian(open.AsSpan(8)));

        (error, byte[] data) = Send(FuseOpcode.Read, FakeFileSystem.FileNode, ReadIn(FakeFileSystem.FileHandle, 7, 100));
        Assert.Equal(0, error);
        Assert.Equal("fuse"u8.ToArray(), data);
    }

    [Fact]
    public void WriteDataAndTheCreateUmaskReachTheFileSystem()
    {
        Init();
        byte[] write = new FuseArgsBuilder().U64(FakeFileSystem.FileHandle).U64(7).U32(3).U32(0).U64(0).U32(0).U32(0).Bytes("FS!"u8).ToArray();
        (int error, byte[] written) = Send(FuseOpcode.Write, FakeFileSystem.FileNode, write);
        Assert.Equal(0, error);
        Assert.Equal(3u, BinaryPrimitives.ReadUInt32LittleEndian(written));
        Assert.Equal("hello, FS!"u8.ToArray(), _fs.Content);

        (error, _) = Send(FuseOpcode.MkDir, 1, new FuseArgsBuilder().U32(0x1FF).U32(0x12).Name("dir").ToArray(), uid: 5, gid: 6, pid: 7);
        Assert.Equal(-Errno.EROFS, error);
        Assert.Equal("mkdir dir 777", _fs.Calls[^1]);
        Assert.Equal(new FuseContext(5, 6, 7, 0x12), _fs.LastContext);
    }

    [Fact]
    public void ReadDirPlusRecordsCarryTheEntriesTheFileSystemAdds()
    {
        Init();
        (int error, byte[] listed) = Send(FuseOpcode.ReadDirPlus, 1, ReadIn(FakeFileSystem.FileHandle + 1, 0, 4096));
        Assert.Equal(0, error);
        (string name, ulong node, ulong offset, uint type) = Assert.Single(FuseTestClient.ParseDirents(listed, plus: true));
        Assert.Equal(("hello", FakeFileSystem.FileNode, 1UL, 8u), (name, node, offset, type));
    }

    [Fact]
    public void ErrorsShortArgumentsAndForgetsFollowTheProtocol()
    {
        Init();

        // An errno the file system returns, and one it throws, are both negated in fuse_out_header.error.
        Assert.Equal(-Errno.ENOENT, Send(FuseOpcode.Lookup, 1, new FuseArgsBuilder().Name("nope").ToArray()).Error);
        Assert.Equal(-Errno.EXDEV, Send(FuseOpcode.StatFs, 1, []).Error);

        // A name without its NUL and a short open_in never reach the file system.
        int calls = _fs.Calls.Count;
        Assert.Equal(-Errno.EINVAL, Send(FuseOpcode.Lookup, 1, "hello"u8.ToArray()).Error);
        Assert.Equal(-Errno.EINVAL, Send(FuseOpcode.Open, FakeFileSystem.FileNode, new byte[4]).Error);
        Assert.Equal(calls, _fs.Calls.Count);

        // FORGET is passed on and never answered; an unknown opcode is ENOSYS.
        Assert.Equal(0u, Run(FuseOpcode.Forget, FakeFileSystem.FileNode, new FuseArgsBuilder().U64(3).ToArray(), 0, 0, 0));
        Assert.Equal((FakeFileSystem.FileNode, 3UL), _fs.LastForget);
        Assert.Equal(-Errno.ENOSYS, Send((FuseOpcode)9999, 1, []).Error);

        // DESTROY ends the session: the file system forgets, and requests are refused until the next INIT.
        Assert.Equal(0, Send(FuseOpcode.Destroy, 0, []).Error);
        Assert.Equal("destroy", _fs.Calls[^1]);
        Assert.Equal(-Errno.EIO, Send(FuseOpcode.GetAttr, FakeFileSystem.FileNode, new byte[16]).Error);
    }

    private static byte[] ReadIn(ulong fh, ulong offset, uint size) => new FuseArgsBuilder().U64(fh).U64(offset).U32(size).U32(0).U64(0).U32(0).U32(0).ToArray();

    private void Init()
        => Assert.Equal(0, Send(FuseOpcode.Init, 0, new FuseArgsBuilder().U32(7).U32(37).U32(0).U32(0x7FFF_FFFB).Zeros(48).ToArray()).Error);

    private (int Error, byte[] Payload) Send(FuseOpcode opcode, ulong node, byte[] args, uint uid = 0, uint gid = 0, uint pid = 0)
    {
        uint used = Run(opcode, node, args, uid, gid, pid);
        Assert.True(used >= 16, $"{opcode} got no reply.");
        byte[] reply = new byte[used];
        _memory.Read(ReplyAddress, reply);
        Assert.Equal(used, BinaryPrimitives.ReadUInt32LittleEndian(reply));
        return (BinaryPrimitives.ReadInt32LittleEndian(reply.AsSpan(4)), reply[16..]);
    }

    private uint Run(FuseOpcode opcode, ulong node, byte[] args, uint uid, uint gid, uint pid)
    {
        Span<byte> header = stackalloc byte[40];
        header.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(header, (uint)(40 + args.Length));
        BinaryPrimitives.WriteUInt32LittleEndian(header[4..], (uint)opcode);
        BinaryPrimitives.WriteUInt64LittleEndian(header[16..], node);
        BinaryPrimitives.WriteUInt32LittleEndian(header[24..], uid);
        BinaryPrimitives.WriteUInt32LittleEndian(header[28..], gid);
        BinaryPrimitives.WriteUInt32LittleEndian(header[32..], pid);
        _memory.Write(RequestAddress, header);
        _memory.Write(RequestAddress + 40, args);
        _chain.Reset(0);
        _chain.AddReadable(new GuestBuffer(RequestAddress, 40));
        if (args.Length > 0)
        {
            _chain.AddReadable(new GuestBuffer(RequestAddress + 40, (uint)args.Length));
        }

        _chain.AddWritable(new GuestBuffer(ReplyAddress, 16));
        _chain.AddWritable(new GuestBuffer(ReplyAddress + 16, 8192));
        return _session.Handle(_chain, 1);
    }
}

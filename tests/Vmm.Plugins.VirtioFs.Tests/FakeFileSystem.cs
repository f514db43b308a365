using System.Text;
using Vmm.Contracts.Virtio;
using Vmm.Plugins.VirtioFs.Fuse;
using Vmm.Plugins.VirtioFs.Server;

namespace Vmm.Plugins.VirtioFs.Tests;

/// <summary>
/// A file system in a few lines, with no host file behind it: the root (node 1) holds one file, "hello" (node 2),
/// whose bytes live in memory. It records what the server handed it, so a test can check the decoding.
/// </summary>
internal sealed class FakeFileSystem : IFuseFileSystem
{
    public const ulong FileNode = 2;
    public const ulong FileHandle = 7;

    public byte[] Content { get; set; } = "hello, fuse"u8.ToArray();

    public List<string> Calls { get; } = [];

    public FuseContext LastContext { get; private set; }

    public (ulong Node, ulong Count) LastForget { get; private set; }

    public ulong Init(bool daxWindow)
    {
        Calls.Add("init");
        return 0;
    }

    public void Destroy() => Calls.Add("destroy");

    public FuseResult<FuseEntry> Lookup(in FuseContext context, ulong parent, ReadOnlySpan<byte> name)
    {
        Record("lookup " + Encoding.UTF8.GetString(name), context);
        return parent == FuseProtocol.RootNodeId && name.SequenceEqual("hello"u8) ? FileEntry() : new FuseError(Errno.ENOENT);
    }

    public void Forget(ulong nodeId, ulong count) => LastForget = (nodeId, count);

    public FuseResult<FuseAttributes> GetAttr(in FuseContext context, ulong nodeId)
    {
        Record("getattr", context);
        return nodeId == FileNode ? new FuseAttributes(FileEntry().Attr, 5) : new FuseError(Errno.ENOENT);
    }

    public FuseResult<FuseEntry> MkDir(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, uint mode)
    {
        Record($"mkdir {Encoding.UTF8.GetString(name)} {Convert.ToString(mode, 8)}", context);
        return new FuseError(Errno.EROFS);
    }

    public FuseResult<FuseOpened> Open(in FuseContext context, ulong nodeId, uint flags, uint openFlags)
        => nodeId == FileNode ? new FuseOpened(FileHandle, FuseProtocol.FopenKeepCache) : new FuseError(Errno.ENOENT);

    public FuseResult<int> Read(in FuseContext context, ulong fileHandle, ulong offset, FuseData destination)
    {
        if (fileHandle != FileHandle)
        {
            return new FuseError(Errno.EBADF);
        }

        return destination.Write(Content.AsSpan((int)Math.Min(offset, (ulong)Content.Length)));
    }

    public FuseResult<int> Write(in FuseContext context, ulong fileHandle, ulong offset, uint writeFlags, FuseData source)
    {
        byte[] data = new byte[source.Length];
        source.Read(data);
        Content = [.. Content.AsSpan(0, (int)offset), .. data];
        return data.Length;
    }

    public FuseError ReadDir(in FuseContext context, ulong fileHandle, ulong offset, ref FuseDirectoryWriter entries)
    {
        if (offset == 0 && entries.Fits(5))
        {
            entries.Add(42, 1, 8, "hello"u8, FileEntry());
        }

        return FuseError.None;
    }

    public FuseResult<FuseOpened> OpenDir(in FuseContext context, ulong nodeId) => new FuseOpened(FileHandle + 1, 0);

    public FuseError Release(ulong fileHandle) => FuseError.None;

    /// <summary>Fails from deep inside, as a host call would.</summary>
    public FuseResult<FuseKStatFs> StatFs(in FuseContext context, ulong nodeId) => throw new FuseFileSystemException("statfs failed", Errno.EXDEV);

    public FuseResult<FuseAttributes> SetAttr(in FuseContext context, ulong nodeId, in FuseSetAttrIn changes) => new FuseError(Errno.ENOSYS);

    public FuseResult<int> ReadLink(in FuseContext context, ulong nodeId, Span<byte> target) => new FuseError(Errno.ENOSYS);

    public FuseResult<FuseEntry> Symlink(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, ReadOnlySpan<byte> target) => new FuseError(Errno.ENOSYS);

    public FuseResult<FuseEntry> MkNod(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, uint mode, uint device) => new FuseError(Errno.ENOSYS);

    public FuseError Unlink(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, bool directory) => new(Errno.ENOSYS);

    public FuseError Rename(in FuseContext context, ulong oldParent, ReadOnlySpan<byte> oldName, ulong newParent, ReadOnlySpan<byte> newName, uint flags) => new(Errno.ENOSYS);

    public FuseResult<FuseEntry> Link(in FuseContext context, ulong nodeId, ulong newParent, ReadOnlySpan<byte> newName) => new FuseError(Errno.ENOSYS);

    public FuseResult<FuseCreated> Create(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, uint flags, uint mode, uint openFlags) => new FuseError(Errno.ENOSYS);

    public FuseError Flush(ulong fileHandle) => FuseError.None;

    public FuseError FSync(ulong fileHandle, bool dataOnly) => FuseError.None;

    public FuseError SetXattr(in FuseContext context, ulong nodeId, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, uint flags) => new(Errno.EOPNOTSUPP);

    public FuseResult<int> GetXattr(in FuseContext context, ulong nodeId, ReadOnlySpan<byte> name, Span<byte> value) => new FuseError(Errno.ENODATA);

    public FuseResult<int> ListXattr(in FuseContext context, ulong nodeId, Span<byte> names) => 0;

    public FuseError RemoveXattr(in FuseContext context, ulong nodeId, ReadOnlySpan<byte> name) => new(Errno.EOPNOTSUPP);

    public FuseError Access(in FuseContext context, ulong nodeId) => FuseError.None;

    public FuseResult<ulong> LSeek(ulong fileHandle, ulong offset, uint whence) => new FuseError(Errno.ENOSYS);

    public FuseError Fallocate(ulong fileHandle, ulong offset, ulong length, uint mode) => new(Errno.ENOSYS);

    public FuseResult<uint> CopyFileRange(in FuseCopyFileRangeIn copy) => new FuseError(Errno.ENOSYS);

    public FuseError SyncFs() => FuseError.None;

    public FuseError SetupMapping(in FuseContext context, ulong nodeId, in FuseSetupMappingIn mapping, ISharedMemoryRegion window) => new(Errno.ENOSYS);

    public FuseError RemoveMapping(ulong windowOffset, ulong length, ISharedMemoryRegion window) => new(Errno.ENOSYS);

    public FuseResult<ulong> ExportFile(ulong nodeId, ulong fileHandle) => new FuseError(Errno.EOPNOTSUPP);

    private FuseEntry FileEntry() => new(FileNode, new FuseAttr { Inode = 42, Mode = FuseProtocol.RegularFile | 0x1A4, Size = (ulong)Content.Length, LinkCount = 1 }, 5);

    private void Record(string call, in FuseContext context)
    {
        Calls.Add(call);
        LastContext = context;
    }
}

using Vmm.Contracts.Virtio;

namespace Vmm.Plugins.VirtioFs.Server;

/// <summary>
/// The operations a FUSE file system implements, one method per request, as crosvm's <c>fuse::filesystem::FileSystem</c>
/// splits them from its server: <see cref="FuseSession"/> decodes a request, calls one of these with typed
/// arguments and the caller's <see cref="FuseContext"/>, and encodes what it answers. Nodes are named by FUSE node id
/// (1 is the root) and open files by file handle; every id, name and number comes from the guest and is checked
/// here. A method answers a value or a <see cref="FuseError"/> (or throws a <see cref="FuseFileSystemException"/>).
/// The sessions of a device call one file system from several threads at once.
/// </summary>
internal interface IFuseFileSystem
{
    /// <summary>A session starts (FUSE_INIT); returns the init flags the file system wants beyond the server's own.</summary>
    /// <param name="daxWindow">Whether file ranges may be mapped into a DAX window this session.</param>
    ulong Init(bool daxWindow);

    /// <summary>Forgets every node and handle the guest held (DESTROY, a new INIT, device reset).</summary>
    void Destroy();

    FuseResult<FuseEntry> Lookup(in FuseContext context, ulong parent, ReadOnlySpan<byte> name);

    /// <summary>The guest drops <paramref name="count"/> lookups of <paramref name="nodeId"/> (FORGET, BATCH_FORGET); never answered.</summary>
    void Forget(ulong nodeId, ulong count);

    FuseResult<FuseAttributes> GetAttr(in FuseContext context, ulong nodeId);

    /// <summary>Changes what <paramref name="changes"/>.Valid names (fuse_setattr_in as sent).</summary>
    FuseResult<FuseAttributes> SetAttr(in FuseContext context, ulong nodeId, in FuseSetAttrIn changes);

    /// <summary>Writes the link's target into <paramref name="target"/>; returns its length.</summary>
    FuseResult<int> ReadLink(in FuseContext context, ulong nodeId, Span<byte> target);

    FuseResult<FuseEntry> Symlink(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, ReadOnlySpan<byte> target);

    /// <param name="device">mknod_in.rdev in the kernel's 32-bit encoding.</param>
    FuseResult<FuseEntry> MkNod(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, uint mode, uint device);

    FuseResult<FuseEntry> MkDir(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, uint mode);

    /// <summary>UNLINK, or RMDIR when <paramref name="directory"/>.</summary>
    FuseError Unlink(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, bool directory);

    /// <param name="flags">RENAME2's flags (0 for RENAME).</param>
    FuseError Rename(in FuseContext context, ulong oldParent, ReadOnlySpan<byte> oldName, ulong newParent, ReadOnlySpan<byte> newName, uint flags);

    FuseResult<FuseEntry> Link(in FuseContext context, ulong nodeId, ulong newParent, ReadOnlySpan<byte> newName);

    /// <param name="flags">The guest's open(2) flags.</param>
    /// <param name="openFlags">fuse_open_in.open_flags (FUSE_OPEN_KILL_SUIDGID).</param>
    FuseResult<FuseOpened> Open(in FuseContext context, ulong nodeId, uint flags, uint openFlags);

    FuseResult<FuseCreated> Create(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, uint flags, uint mode, uint openFlags);

    /// <summary>Reads from <paramref name="offset"/> into <paramref name="destination"/>; returns the bytes read (fewer at end of file).</summary>
    FuseResult<int> Read(in FuseContext context, ulong fileHandle, ulong offset, FuseData destination);

    /// <summary>Writes all of <paramref name="source"/> at <paramref name="offset"/>; returns the bytes written.</summary>
    FuseResult<int> Write(in FuseContext context, ulong fileHandle, ulong offset, uint writeFlags, FuseData source);

    FuseResult<FuseKStatFs> StatFs(in FuseContext context, ulong nodeId);

    /// <summary>RELEASE and RELEASEDIR: the handle is closed.</summary>
    FuseError Release(ulong fileHandle);

    FuseError Flush(ulong fileHandle);

    /// <summary>FSYNC and FSYNCDIR.</summary>
    FuseError FSync(ulong fileHandle, bool dataOnly);

    FuseError SetXattr(in FuseContext context, ulong nodeId, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, uint flags);

    /// <summary>Writes the value into <paramref name="value"/>; returns its length (only the length when <paramref name="value"/> is empty).</summary>
    FuseResult<int> GetXattr(in FuseContext context, ulong nodeId, ReadOnlySpan<byte> name, Span<byte> value);

    /// <summary>Writes the NUL-separated names into <paramref name="names"/>; returns their length (only the length when it is empty).</summary>
    FuseResult<int> ListXattr(in FuseContext context, ulong nodeId, Span<byte> names);

    FuseError RemoveXattr(in FuseContext context, ulong nodeId, ReadOnlySpan<byte> name);

    FuseResult<FuseOpened> OpenDir(in FuseContext context, ulong nodeId);

    /// <summary>Adds the records from cookie <paramref name="offset"/> on to <paramref name="entries"/> until it is full or the directory ends.</summary>
    FuseError ReadDir(in FuseContext context, ulong fileHandle, ulong offset, ref FuseDirectoryWriter entries);

    FuseError Access(in FuseContext context, ulong nodeId);

    FuseResult<ulong> LSeek(ulong fileHandle, ulong offset, uint whence);

    FuseError Fallocate(ulong fileHandle, ulong offset, ulong length, uint mode);

    /// <summary>Returns the bytes copied.</summary>
    FuseResult<uint> CopyFileRange(in FuseCopyFileRangeIn copy);

    FuseError SyncFs();

    /// <summary>Maps a range of the node's file into <paramref name="window"/> (fuse_setupmapping_in as sent).</summary>
    FuseError SetupMapping(in FuseContext context, ulong nodeId, in FuseSetupMappingIn mapping, ISharedMemoryRegion window);

    /// <summary>Puts one range of <paramref name="window"/> back to the inaccessible reservation.</summary>
    FuseError RemoveMapping(ulong windowOffset, ulong length, ISharedMemoryRegion window);

    /// <summary>
    /// libkrun's EXPORT_FD ioctl on the open file <paramref name="fileHandle"/> of node <paramref name="nodeId"/>:
    /// the file goes into the plugin's export table (for cross-domain futexes) until the handle is released;
    /// answers the device's fs_id.
    /// </summary>
    FuseResult<ulong> ExportFile(ulong nodeId, ulong fileHandle);
}

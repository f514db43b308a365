using Microsoft.Win32.SafeHandles;

namespace Vmm.Plugins.VirtioFs.Server;

/// <summary>
/// One host inode the guest knows by a node id. Held by an O_PATH handle for its whole life, so every operation
/// reaches exactly this inode and never re-resolves a path.
/// </summary>
internal sealed class Inode : IDisposable
{
    public Inode(ulong nodeId, SafeFileHandle handle, ulong device, ulong hostInode, uint fileType)
    {
        NodeId = nodeId;
        Handle = handle;
        Device = device;
        HostInode = hostInode;
        FileType = fileType;
    }

    public ulong NodeId { get; }

    /// <summary>The O_PATH | O_NOFOLLOW handle.</summary>
    public SafeFileHandle Handle { get; }

    public ulong Device { get; }

    public ulong HostInode { get; }

    /// <summary>The S_IFMT bits; constant for a node id.</summary>
    public uint FileType { get; }

    /// <summary>How many lookups the guest holds (FORGET gives them back).</summary>
    public ulong LookupCount { get; set; }

    public bool IsDirectory => FileType == Fuse.FuseProtocol.Directory;

    public bool IsRegularFile => FileType == Fuse.FuseProtocol.RegularFile;

    /// <summary>
    /// The root of a kernel interface file system (procfs, sysfs, ...) mounted inside the share, as with a share
    /// of "/": the guest sees an empty, unchangeable directory (a mount point for its own), never what is inside.
    /// </summary>
    public bool IsKernelInterface { get; init; }

    public bool IsSymlink => FileType == Fuse.FuseProtocol.Symlink;

    public void Dispose() => Handle.Dispose();
}

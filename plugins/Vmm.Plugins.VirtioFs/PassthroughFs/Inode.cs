using Microsoft.Win32.SafeHandles;

namespace Vmm.Plugins.VirtioFs.PassthroughFs;

/// <summary>
/// One host inode the guest knows by a node id. Held by an O_PATH handle for its whole life, so every operation
/// reaches exactly this inode and never re-resolves a path. The handle has holders: the node table (until the
/// guest forgets the node) and every open file or directory handle made from it, as virtiofsd's handles keep
/// their inode: a FORGET while a directory is still open must not close what its READDIRPLUS resolves names in.
/// </summary>
internal sealed class Inode
{
    // The table's hold; open handles add theirs. The O_PATH handle closes when the last is given back.
    private int _holders = 1;

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

    /// <summary>Adds a holder (an open handle); false when the last holder is already gone (the handle is closed).</summary>
    public bool TryHold()
    {
        int holders = Volatile.Read(ref _holders);
        while (holders > 0)
        {
            int seen = Interlocked.CompareExchange(ref _holders, holders + 1, holders);
            if (seen == holders)
            {
                return true;
            }

            holders = seen;
        }

        return false;
    }

    /// <summary>Gives back one hold (the table's on FORGET, or an open handle's on RELEASE); the last closes the handle.</summary>
    public void Release()
    {
        if (Interlocked.Decrement(ref _holders) == 0)
        {
            Handle.Dispose();
        }
    }
}

using Microsoft.Win32.SafeHandles;
using Vmm.Plugins.VirtioFs.Host;

namespace Vmm.Plugins.VirtioFs.PassthroughFs;

/// <summary>
/// Node id → inode, and (device, inode) → inode so hard links share one node id. Node ids come from a counter
/// and are never reused; the root is node 1 and is never forgotten. Thread-safe (every queue's session uses it,
/// the hiprio queue's FORGETs included); the lock is held only for table work and closing O_PATH handles.
/// </summary>
internal sealed class InodeTable : IDisposable
{
    private readonly Dictionary<ulong, Inode> _byNodeId = [];
    private readonly Dictionary<(ulong Device, ulong Inode), Inode> _byHostId = [];
    private readonly Lock _sync = new();
    private readonly int _limit;
    private ulong _nextNodeId = Fuse.FuseProtocol.RootNodeId + 1;

    public InodeTable(SafeFileHandle rootHandle, int limit)
    {
        _limit = limit;
        HostFileStatus status = HostFileSystem.Stat(rootHandle);
        Root = new Inode(Fuse.FuseProtocol.RootNodeId, rootHandle, status.Device, status.Inode, status.FileType);
        AddLocked(Root);
    }

    public Inode Root { get; }

    public int Count
    {
        get
        {
            lock (_sync)
            {
                return _byNodeId.Count;
            }
        }
    }

    public bool TryGet(ulong nodeId, out Inode inode)
    {
        lock (_sync)
        {
            return _byNodeId.TryGetValue(nodeId, out inode!);
        }
    }

    /// <summary>Finds the inode a host (device, inode) pair already has, without counting a lookup.</summary>
    public bool TryFind(ulong device, ulong hostInode, out Inode inode)
    {
        lock (_sync)
        {
            return _byHostId.TryGetValue((device, hostInode), out inode!);
        }
    }

    /// <summary>Counts one more guest lookup of a known node; false when it was forgotten meanwhile.</summary>
    public bool TryAddLookup(Inode inode)
    {
        lock (_sync)
        {
            if (inode == Root)
            {
                return true;
            }

            if (!_byNodeId.TryGetValue(inode.NodeId, out Inode? known) || known != inode)
            {
                return false;
            }

            inode.LookupCount++;
            return true;
        }
    }

    /// <summary>
    /// Counts one guest lookup of the inode behind <paramref name="handle"/>: the existing node when the host inode
    /// is known (and <paramref name="handle"/> is closed), else a new node that takes ownership of the handle.
    /// Returns null when the table is full (the handle is closed).
    /// </summary>
    public Inode? Reference(SafeFileHandle handle, in HostFileStatus status, bool kernelInterface = false)
    {
        lock (_sync)
        {
            return ReferenceLocked(handle, status, kernelInterface);
        }
    }

    /// <summary>Takes back one lookup (an entry that was counted but never reached the guest).</summary>
    public void Unreference(Inode inode) => Forget(inode.NodeId, 1);

    /// <summary>FORGET: subtracts <paramref name="count"/> lookups and drops the node at zero. Unknown ids are ignored.</summary>
    public void Forget(ulong nodeId, ulong count)
    {
        lock (_sync)
        {
            ForgetLocked(nodeId, count);
        }
    }

    /// <summary>Drops every node but the root (a new session: FUSE_INIT again, DESTROY, device reset).</summary>
    public void Clear()
    {
        lock (_sync)
        {
            ClearLocked();
        }
    }

    public void Dispose()
    {
        Clear();
        Root.Release();
    }

    private Inode? ReferenceLocked(SafeFileHandle handle, in HostFileStatus status, bool kernelInterface)
    {
        if (_byHostId.TryGetValue((status.Device, status.Inode), out Inode? known))
        {
            handle.Dispose();
            if (known != Root)
            {
                known.LookupCount++;
            }

            return known;
        }

        if (_byNodeId.Count >= _limit)
        {
            handle.Dispose();
            return null;
        }

        var inode = new Inode(_nextNodeId++, handle, status.Device, status.Inode, status.FileType) { LookupCount = 1, IsKernelInterface = kernelInterface };
        AddLocked(inode);
        return inode;
    }

    private void ForgetLocked(ulong nodeId, ulong count)
    {
        if (nodeId == Fuse.FuseProtocol.RootNodeId || !_byNodeId.TryGetValue(nodeId, out Inode? inode))
        {
            return;
        }

        inode.LookupCount = count >= inode.LookupCount ? 0 : inode.LookupCount - count;
        if (inode.LookupCount == 0)
        {
            _byNodeId.Remove(nodeId);
            _byHostId.Remove((inode.Device, inode.HostInode));
            inode.Release();
        }
    }

    private void ClearLocked()
    {
        foreach (Inode inode in _byNodeId.Values)
        {
            if (inode != Root)
            {
                inode.Release();
            }
        }

        _byNodeId.Clear();
        _byHostId.Clear();
        AddLocked(Root);
    }

    private void AddLocked(Inode inode)
    {
        _byNodeId.Add(inode.NodeId, inode);
        _byHostId[(inode.Device, inode.HostInode)] = inode;
    }
}

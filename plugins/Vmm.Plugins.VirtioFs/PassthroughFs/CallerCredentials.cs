using System.Security;
using Vmm.Plugins.VirtioFs.Host;
using Vmm.Plugins.VirtioFs.Server;

namespace Vmm.Plugins.VirtioFs.PassthroughFs;

/// <summary>
/// The guest caller's ids (after the uid/gid maps) as the calling thread's file-system ids, for one create-type
/// system call, as the C virtiofsd does: the kernel then checks the caller's permission in the parent directory
/// (a non-root caller cannot create in a root-owned 0755 directory) and gives the new inode the caller's owner,
/// and the directory's group where it is set-group-id. The thread has no supplementary groups (see
/// <see cref="RequestQueueWorker"/>): a 6.1 guest sends none (FUSE_CREATE_SUPP_GROUP is 7.38), so group access is
/// by the caller's primary group only. Dispose restores the previous ids; never hold one across an await.
/// </summary>
internal readonly struct CallerCredentials : IDisposable
{
    private readonly uint _previousUid;
    private readonly uint _previousGid;
    private readonly bool _restore;

    private CallerCredentials(uint previousUid, uint previousGid, bool restore)
    {
        _previousUid = previousUid;
        _previousGid = previousGid;
        _restore = restore;
        IsSwitched = true;
    }

    /// <summary>Whether the ids were switched (else the call runs as this process and the node is chowned after, if root).</summary>
    public bool IsSwitched { get; }

    /// <summary>Switches to the caller's ids when the connection may; 0, or the errno for a caller the maps do not cover.</summary>
    public static int TryEnter(PassthroughFileSystem fileSystem, in FuseContext caller, out CallerCredentials scope)
    {
        scope = default;
        if (!fileSystem.SwitchesCredentials)
        {
            return 0;
        }

        if (!fileSystem.Uids.TryToHost(caller.Uid, out uint uid) || !fileSystem.Gids.TryToHost(caller.Gid, out uint gid))
        {
            // As in a user namespace: an unmapped id cannot own anything.
            return Errno.EOVERFLOW;
        }

        if (!HostCredentials.TrySwitch(uid, gid, out uint previousUid, out uint previousGid))
        {
            return Errno.EPERM;
        }

        // Ids that were already the thread's need no restore (two system calls and their check fewer per create).
        scope = new CallerCredentials(previousUid, previousGid, restore: previousUid != uid || previousGid != gid);
        return 0;
    }

    public void Dispose()
    {
        if (!_restore)
        {
            return;
        }

        try
        {
            HostCredentials.Restore(_previousUid, _previousGid);
        }
        catch (InvalidOperationException e)
        {
            // Not an errno reply: the queue must fail rather than run later requests with a guest's ids.
            throw new SecurityException(e.Message, e);
        }
    }
}

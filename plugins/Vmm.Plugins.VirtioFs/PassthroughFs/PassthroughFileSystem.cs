using System.Collections.Concurrent;
using Microsoft.Win32.SafeHandles;
using Vmm.Plugins.VirtioFs.Host;
using Vmm.Plugins.VirtioFs.Server;

namespace Vmm.Plugins.VirtioFs.PassthroughFs;

/// <summary>
/// The file system virtio-fs serves: one host directory passed through. Every node is held by an O_PATH handle and
/// every change is an *at() call relative to one, so no guest name is ever resolved as a path, and nothing outside
/// the share can be reached. The node and handle tables are thread-safe (short locks, never held across file
/// I/O), so the hiprio queue can apply a FORGET while a request queue sits in a slow system call.
/// </summary>
internal sealed partial class PassthroughFileSystem : IFuseFileSystem, IDisposable
{
    private const int InodeLimit = 1 << 16;
    private const int HandleLimit = 1 << 14;

    private readonly ConcurrentDictionary<ulong, bool> _kernelInterfaceDevices = new();
    private readonly bool _readOnly;
    private readonly bool _deviceNodes;
    private readonly bool _keepSetId;
    private readonly CachePolicy _cache;
    private readonly IdMap _uids;
    private readonly IdMap _gids;
    private readonly SafeFileHandle _procSelfFd;
    private readonly SafeFileHandle _rootDirectory;
    private readonly InodeTable _inodes;
    private readonly HandleTable _handles = new(HandleLimit);
    private readonly DirectoryChangeLocks _directoryChanges = new();
    private volatile bool _daxWindow;

    public PassthroughFileSystem(string sharedDir, VirtioFsOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _readOnly = options.ReadOnly;
        _deviceNodes = options.DeviceNodes;
        _keepSetId = options.KeepSetId;
        Umask = VirtioFsDeviceFactory.TryParseUmask(options.Umask, out uint umask) ? umask : throw new ArgumentException($"umask \"{options.Umask}\" is not an octal mask up to 777.", nameof(options));
        _cache = CachePolicy.FromName(options.Cache);
        _uids = new IdMap(options.UidMap);
        _gids = new IdMap(options.GidMap);
        Privileged = HostFileSystem.IsPrivileged;
        SwitchesCredentials = Privileged && HostCredentials.CanSwitch;
        SafeFileHandle root = HostFileSystem.OpenDirectory(sharedDir);
        try
        {
            _procSelfFd = HostFileSystem.OpenProcSelfFd();
            _rootDirectory = HostFileSystem.Reopen(_procSelfFd, root, HostFileSystem.DirectoryFlags);
            _inodes = new InodeTable(root, InodeLimit);
        }
        catch
        {
            root.Dispose();
            _procSelfFd?.Dispose();
            _rootDirectory?.Dispose();
            throw;
        }
    }

    /// <summary>This device's part of the plugin's export table (EXPORT_FD); null when the device has none.</summary>
    public FileExports? Exports { get; init; }

    /// <summary>The request threads' umask: permission bits taken from every node the guest creates (0 by default).</summary>
    public uint Umask { get; }

    /// <summary>Whether this process runs as root.</summary>
    public bool Privileged { get; }

    /// <summary>
    /// Whether creates run with the caller's file-system ids (root with CAP_SETUID and CAP_SETGID). Otherwise new
    /// nodes belong to this process's user, as an unprivileged server can do no better.
    /// </summary>
    public bool SwitchesCredentials { get; }

    /// <summary>Known node ids, the root included.</summary>
    public int InodeCount => _inodes.Count;

    /// <summary>Open file and directory handles.</summary>
    public int HandleCount => _handles.Count;

    internal IdMap Uids => _uids;

    internal IdMap Gids => _gids;

    /// <summary>Set-ID bits kept: the guest leaves killing them on write, truncate and chown to us (as virtiofsd asks).</summary>
    public ulong Init(bool daxWindow)
    {
        _daxWindow = daxWindow;
        return _keepSetId ? FuseProtocol.HandleKillprivV2 : 0;
    }

    public void Destroy()
    {
        _handles.Clear();
        Exports?.Clear();
        _inodes.Clear();
    }

    public void Dispose()
    {
        Exports?.Clear();
        _handles.Dispose();
        _inodes.Dispose();
        _rootDirectory.Dispose();
        _procSelfFd.Dispose();
    }

    private static FuseError Fail(int errno) => new(errno);

    private bool TryGetInode(ulong nodeId, out Inode inode) => _inodes.TryGet(nodeId, out inode);

    /// <summary>Finds a directory node; 0 or the errno (ENOENT unknown id, ENOTDIR not a directory).</summary>
    private int GetDirectory(ulong nodeId, out Inode directory)
    {
        if (!_inodes.TryGet(nodeId, out directory))
        {
            return Errno.ENOENT;
        }

        return directory.IsDirectory ? 0 : Errno.ENOTDIR;
    }

    /// <summary>
    /// Whether the inode behind <paramref name="handle"/> lies on a kernel interface file system (procfs, sysfs,
    /// ...). Asked only off the root's device, once per device number.
    /// </summary>
    private bool IsKernelInterface(SafeFileHandle handle, in HostFileStatus status)
    {
        if (status.Device == _inodes.Root.Device)
        {
            return false;
        }

        if (_kernelInterfaceDevices.TryGetValue(status.Device, out bool known))
        {
            return known;
        }

        bool kernelInterface = HostFileSystem.StatFileSystem(handle).IsKernelInterface;
        _kernelInterfaceDevices[status.Device] = kernelInterface;
        return kernelInterface;
    }
}

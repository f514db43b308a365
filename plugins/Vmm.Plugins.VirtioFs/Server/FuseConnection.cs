using System.Collections.Concurrent;
using Microsoft.Win32.SafeHandles;
using Vmm.Plugins.VirtioFs.Host;

namespace Vmm.Plugins.VirtioFs.Server;

/// <summary>
/// What every queue of one virtio-fs device shares: the node ids and file handles the guest holds, the share's
/// root, the options, and whether FUSE_INIT was received. The tables are thread-safe (short locks, never held
/// across file I/O), so the hiprio queue can apply a FORGET while a request queue sits in a slow system call.
/// </summary>
internal sealed class FuseConnection : IDisposable
{
    private const int InodeLimit = 1 << 16;
    private const int HandleLimit = 1 << 14;

    private readonly ConcurrentDictionary<ulong, bool> _kernelInterfaceDevices = new();
    private volatile bool _initialized;

    public FuseConnection(string sharedDir, VirtioFsOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ReadOnly = options.ReadOnly;
        DeviceNodes = options.DeviceNodes;
        KeepSetId = options.KeepSetId;
        Umask = VirtioFsDeviceFactory.TryParseUmask(options.Umask, out uint umask) ? umask : throw new ArgumentException($"umask \"{options.Umask}\" is not an octal mask up to 777.", nameof(options));
        Cache = CachePolicy.FromName(options.Cache);
        Uids = new IdMap(options.UidMap);
        Gids = new IdMap(options.GidMap);
        Privileged = HostFileSystem.IsPrivileged;
        SwitchesCredentials = Privileged && HostCredentials.CanSwitch;
        SafeFileHandle root = HostFileSystem.OpenDirectory(sharedDir);
        try
        {
            ProcSelfFd = HostFileSystem.OpenProcSelfFd();
            RootDirectory = HostFileSystem.Reopen(ProcSelfFd, root, HostFileSystem.DirectoryFlags);
            Inodes = new InodeTable(root, InodeLimit);
        }
        catch
        {
            root.Dispose();
            ProcSelfFd?.Dispose();
            RootDirectory?.Dispose();
            throw;
        }
    }

    public bool ReadOnly { get; }

    /// <summary>Whether MKNOD may create character and block devices.</summary>
    public bool DeviceNodes { get; }

    /// <summary>Whether set-user-ID and set-group-ID bits are kept (else stripped from every mode the guest sets).</summary>
    public bool KeepSetId { get; }

    /// <summary>The request threads' umask: permission bits taken from every node the guest creates (0 by default).</summary>
    public uint Umask { get; }

    public CachePolicy Cache { get; }

    public IdMap Uids { get; }

    public IdMap Gids { get; }

    /// <summary>Whether this process runs as root.</summary>
    public bool Privileged { get; }

    /// <summary>
    /// Whether creates run with the caller's file-system ids (root with CAP_SETUID and CAP_SETGID). Otherwise new
    /// nodes belong to this process's user, as an unprivileged server can do no better.
    /// </summary>
    public bool SwitchesCredentials { get; }

    /// <summary>/proc/self/fd, through which O_PATH handles are reopened.</summary>
    public SafeFileHandle ProcSelfFd { get; }

    /// <summary>The share's root opened as a directory (syncfs).</summary>
    public SafeFileHandle RootDirectory { get; }

    public InodeTable Inodes { get; }

    public HandleTable Handles { get; } = new(HandleLimit);

    /// <summary>This device's part of the plugin's export table (EXPORT_FD); null when the device has none.</summary>
    public FileExports? Exports { get; init; }

    /// <summary>Whether FUSE_INIT started the current session.</summary>
    public bool Initialized
    {
        get => _initialized;
        set => _initialized = value;
    }

    /// <summary>
    /// Whether the inode behind <paramref name="handle"/> lies on a kernel interface file system (procfs, sysfs,
    /// ...). Asked only off the root's device, once per device number.
    /// </summary>
    public bool IsKernelInterface(SafeFileHandle handle, in HostFileStatus status)
    {
        if (status.Device == Inodes.Root.Device)
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

    public void Dispose()
    {
        Exports?.Clear();
        Handles.Dispose();
        Inodes.Dispose();
        RootDirectory.Dispose();
        ProcSelfFd.Dispose();
    }
}

using Microsoft.Win32.SafeHandles;
using Vmm.Contracts.Files;

namespace Vmm.Plugins.VirtioFs;

/// <summary>
/// The plugin's table of files the guest exported with libkrun's <c>VIRTIO_IOC_EXPORT_FD</c> ioctl:
/// (fs_id, FUSE file handle) → a duplicate of the open host file. Every virtio-fs device of the plugin host takes an
/// fs_id from it (0, 1, ... as libkrun counts); an export goes on FUSE_RELEASE of its handle or when its device
/// resets. Registered as <see cref="IFileExportTable"/>, so the cross-domain plugin finds futex files through the
/// contracts alone. Thread-safe.
/// </summary>
public sealed class FileExportTable : IFileExportTable, IDisposable
{
    /// <summary>The most exports held at once: a guest that exports without releasing cannot grow it further.</summary>
    public const int MaxExports = 4096;

    private readonly Dictionary<(ulong FileSystemId, ulong Handle), SafeFileHandle> _exports = [];
    private readonly Lock _sync = new();
    private ulong _nextFileSystemId;

    /// <summary>Exports held now (tests count them).</summary>
    public int Count
    {
        get
        {
            lock (_sync)
            {
                return _exports.Count;
            }
        }
    }

    /// <inheritdoc />
    public SafeFileHandle? OpenExport(ulong fileSystemId, ulong handle)
    {
        lock (_sync)
        {
            // Duplicated under the lock: a concurrent RELEASE cannot close the file mid-call.
            return _exports.TryGetValue((fileSystemId, handle), out SafeFileHandle? file)
                ? global::Interop.CheckIo(global::Interop.FcntlDuplicate(file, global::Interop.F_DUPFD_CLOEXEC, 0), "fcntl(F_DUPFD_CLOEXEC)")
                : null;
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        lock (_sync)
        {
            foreach (SafeFileHandle file in _exports.Values)
            {
                file.Dispose();
            }

            _exports.Clear();
        }
    }

    /// <summary>A new device's part of the table, under the next fs_id.</summary>
    internal PassthroughFs.FileExports Register()
    {
        lock (_sync)
        {
            return new PassthroughFs.FileExports(this, _nextFileSystemId++);
        }
    }

    /// <summary>Records a duplicate of <paramref name="file"/> as (fs_id, handle); false when the table is full.</summary>
    internal bool Add(ulong fileSystemId, ulong handle, SafeFileHandle file)
    {
        lock (_sync)
        {
            if (_exports.ContainsKey((fileSystemId, handle)))
            {
                // Exporting a handle twice hands out the same pair; the first duplicate serves both.
                return true;
            }

            if (_exports.Count >= MaxExports)
            {
                return false;
            }

            _exports.Add((fileSystemId, handle), global::Interop.CheckIo(global::Interop.FcntlDuplicate(file, global::Interop.F_DUPFD_CLOEXEC, 0), "fcntl(F_DUPFD_CLOEXEC)"));
            return true;
        }
    }

    /// <summary>Forgets (and closes) the export of (fs_id, handle), if any.</summary>
    internal void Remove(ulong fileSystemId, ulong handle)
    {
        lock (_sync)
        {
            if (_exports.Remove((fileSystemId, handle), out SafeFileHandle? file))
            {
                file.Dispose();
            }
        }
    }

    /// <summary>Forgets every export of one device (its reset, FUSE_DESTROY, or its end).</summary>
    internal void RemoveAll(ulong fileSystemId)
    {
        lock (_sync)
        {
            foreach ((ulong FileSystemId, ulong Handle) key in _exports.Keys.Where(k => k.FileSystemId == fileSystemId).ToArray())
            {
                _exports.Remove(key, out SafeFileHandle? file);
                file!.Dispose();
            }
        }
    }
}

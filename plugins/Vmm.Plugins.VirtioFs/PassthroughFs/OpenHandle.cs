using Microsoft.Win32.SafeHandles;

namespace Vmm.Plugins.VirtioFs.PassthroughFs;

/// <summary>
/// An open file or directory the guest holds by a FUSE file handle. It holds its <see cref="Inode"/> (one
/// <see cref="Inode.TryHold"/> the caller took for it), given back on dispose.
/// </summary>
internal sealed class OpenHandle(SafeFileHandle file, Inode inode, bool isDirectory, bool writable) : IDisposable
{
    public SafeFileHandle File { get; } = file;

    /// <summary>The inode it was opened from; its O_PATH handle stays open while this handle is, even after a FORGET.</summary>
    public Inode Inode { get; } = inode;

    public bool IsDirectory { get; } = isDirectory;

    public bool Writable { get; } = writable;

    /// <summary>Serialises READDIRs of one directory handle (its file position is shared).</summary>
    public Lock Sync { get; } = new();

    public void Dispose()
    {
        File.Dispose();
        Inode.Release();
    }
}

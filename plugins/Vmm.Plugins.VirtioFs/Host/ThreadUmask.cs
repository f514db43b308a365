using Tmds.Linux;

namespace Vmm.Plugins.VirtioFs.Host;

/// <summary>
/// The umask of a request thread. Linux keeps the umask in the fs_struct that a process's threads share; after
/// <c>unshare(CLONE_FS)</c> the calling thread has its own, so its umask can be the share's (0 by default: the
/// guest kernel already applied the guest's umask to the mode it sends) without touching the VMM's umask, under
/// which its other files are made. The C virtiofsd does the same with <c>umask(0)</c> in a process of its own.
/// </summary>
internal static class ThreadUmask
{
    /// <summary>Gives the calling thread a file-system context of its own with <paramref name="mask"/> as its umask; returns errno (0 on success).</summary>
    public static int Set(uint mask)
    {
        if (LibC.unshare(LibC.CLONE_FS) != 0)
        {
            return LibC.errno;
        }

        LibC.umask((mode_t)mask);
        return 0;
    }

    /// <summary>The calling thread's umask (from /proc/thread-self/status).</summary>
    public static uint Current()
    {
        string? line = File.ReadLines("/proc/thread-self/status").FirstOrDefault(l => l.StartsWith("Umask:", StringComparison.Ordinal));
        return line is null ? 0 : Convert.ToUInt32(line["Umask:".Length..].Trim(), 8);
    }
}

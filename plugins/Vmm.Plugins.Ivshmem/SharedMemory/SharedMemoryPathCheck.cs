using Tmds.Linux;

namespace Vmm.Plugins.Ivshmem.SharedMemory;

/// <summary>
/// What config validation can tell about a shared-memory file without creating it: the folder exists and this user
/// may create files in it, or the file is there, a file, readable and writable, and of the size asked for (or empty).
/// </summary>
internal static class SharedMemoryPathCheck
{
    /// <summary>Why <paramref name="path"/> (absolute) cannot back <paramref name="size"/> bytes, or null when it looks usable.</summary>
    /// <param name="path">The absolute host path.</param>
    /// <param name="size">The size asked for, or null when the size itself is wrong (then only the path is checked).</param>
    public static string? Check(string path, long? size)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (Directory.Exists(path))
        {
            return $"'{path}' is a directory; name a file in it, for example '{Path.Combine(path, "looking-glass")}'.";
        }

        string? folder = Path.GetDirectoryName(path);
        if (folder is null || !Directory.Exists(folder))
        {
            return $"the folder '{folder ?? path}' does not exist.";
        }

        if (File.Exists(path))
        {
            if (Access(path, LibC.R_OK | LibC.W_OK) is string denied)
            {
                return $"'{path}' is not readable and writable by this user ({denied}).";
            }

            long existing = new FileInfo(path).Length;
            if (size is long wanted && existing != 0 && existing != wanted)
            {
                return $"'{path}' is {existing} bytes but size is {wanted}; delete the file or set size to {existing} (an existing file is never truncated: another VM or client may use it).";
            }

            return null;
        }

        return Access(folder, LibC.W_OK | LibC.X_OK) is string cannot
            ? $"cannot create '{path}': the folder '{folder}' is not writable by this user ({cannot})."
            : null;
    }

    // euidaccess: the check the effective user would pass when the VMM opens the file (root passes unless read-only).
    private static unsafe string? Access(string path, int mode)
    {
        byte[] bytes = System.Text.Encoding.UTF8.GetBytes(path + "\0");
        fixed (byte* pointer = bytes)
        {
            if (LibC.euidaccess(pointer, mode) == 0)
            {
                return null;
            }
        }

        int errno = LibC.errno;
        return new System.ComponentModel.Win32Exception(errno).Message;
    }
}

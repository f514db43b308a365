using Microsoft.Win32.SafeHandles;
using Tmds.Linux;
using static global::Interop.Fs;

namespace Vmm.Plugins.VirtioFs.Host;

/// <summary>Calls that change names and inodes: creates, removes, renames, links, modes, owners, times, sizes.</summary>
internal static unsafe partial class HostFileSystem
{
    /// <summary>mkdirat.</summary>
    public static void MakeDirectory(SafeFileHandle directory, ReadOnlySpan<byte> name, uint mode)
    {
        Span<byte> buffer = stackalloc byte[MaxNameBytes + 1];
        fixed (byte* p = Terminate(name, buffer))
        {
            global::Interop.CheckIo(global::Interop.MkdirAt(directory, p, mode), "mkdirat");
        }
    }

    /// <summary>mknodat (fifos, sockets, regular files and, when privileged, device nodes).</summary>
    public static void MakeNode(SafeFileHandle directory, ReadOnlySpan<byte> name, uint mode, ulong device)
    {
        Span<byte> buffer = stackalloc byte[MaxNameBytes + 1];
        fixed (byte* p = Terminate(name, buffer))
        {
            global::Interop.CheckIo(global::Interop.MknodAt(directory, p, mode, device), "mknodat");
        }
    }

    /// <summary>symlinkat: <paramref name="target"/> is stored as given, never resolved by us.</summary>
    public static void MakeSymbolicLink(ReadOnlySpan<byte> target, SafeFileHandle directory, ReadOnlySpan<byte> name)
    {
        Span<byte> nameBuffer = stackalloc byte[MaxNameBytes + 1];
        Span<byte> targetBuffer = stackalloc byte[MaxNameBytes + 1];
        fixed (byte* n = Terminate(name, nameBuffer))
        fixed (byte* t = Terminate(target, targetBuffer))
        {
            global::Interop.CheckIo(global::Interop.SymlinkAt(t, directory, n), "symlinkat");
        }
    }

    /// <summary>unlinkat, of a directory when <paramref name="directoryEntry"/>.</summary>
    public static void Unlink(SafeFileHandle directory, ReadOnlySpan<byte> name, bool directoryEntry)
    {
        Span<byte> buffer = stackalloc byte[MaxNameBytes + 1];
        fixed (byte* p = Terminate(name, buffer))
        {
            global::Interop.CheckIo(global::Interop.UnlinkAt(directory, p, directoryEntry ? AT_REMOVEDIR : 0), "unlinkat");
        }
    }

    /// <summary>renameat2 with the guest's RENAME_* flags (NOREPLACE, EXCHANGE, WHITEOUT share the Linux values).</summary>
    public static void Rename(SafeFileHandle oldDirectory, ReadOnlySpan<byte> oldName, SafeFileHandle newDirectory, ReadOnlySpan<byte> newName, uint flags)
    {
        Span<byte> oldBuffer = stackalloc byte[MaxNameBytes + 1];
        Span<byte> newBuffer = stackalloc byte[MaxNameBytes + 1];
        fixed (byte* o = Terminate(oldName, oldBuffer))
        fixed (byte* n = Terminate(newName, newBuffer))
        {
            global::Interop.CheckIo(global::Interop.RenameAt2(oldDirectory, o, newDirectory, n, flags), "renameat2");
        }
    }

    /// <summary>The rename flags the host understands.</summary>
    public static uint KnownRenameFlags => RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT;

    /// <summary>Hard-links the inode behind an O_PATH handle as <paramref name="newName"/> (through its /proc magic link).</summary>
    public static void Link(SafeFileHandle procSelfFd, SafeFileHandle pathHandle, SafeFileHandle newDirectory, ReadOnlySpan<byte> newName)
    {
        Span<byte> number = stackalloc byte[16];
        using MagicLinkName link = new(pathHandle, number);
        Span<byte> buffer = stackalloc byte[MaxNameBytes + 1];
        fixed (byte* o = link.Bytes)
        fixed (byte* n = Terminate(newName, buffer))
        {
            global::Interop.CheckIo(global::Interop.LinkAt(procSelfFd, o, newDirectory, n, AT_SYMLINK_FOLLOW), "linkat");
        }
    }

    /// <summary>chmod of the inode behind an O_PATH handle (through its /proc magic link, which names exactly it).</summary>
    public static void ChangeMode(SafeFileHandle procSelfFd, SafeFileHandle pathHandle, uint mode)
    {
        Span<byte> number = stackalloc byte[16];
        using MagicLinkName link = new(pathHandle, number);
        fixed (byte* p = link.Bytes)
        {
            global::Interop.CheckIo(global::Interop.FChmodAt(procSelfFd, p, mode, 0), "fchmodat");
        }
    }

    /// <summary>chown of the inode itself; <see cref="uint.MaxValue"/> leaves an id unchanged.</summary>
    public static void ChangeOwner(SafeFileHandle pathHandle, uint uid, uint gid)
    {
        fixed (byte* p = s_empty)
        {
            global::Interop.CheckIo(global::Interop.FChownAt(pathHandle, p, uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW), "fchownat");
        }
    }

    /// <summary>Sets access and modification times of the inode behind an O_PATH handle.</summary>
    public static void SetTimes(SafeFileHandle procSelfFd, SafeFileHandle pathHandle, bool symbolicLink, HostFileTime access, HostFileTime modify)
    {
        global::Interop.TimeSpec* times = stackalloc global::Interop.TimeSpec[2];
        times[0] = access.ToTimeSpec();
        times[1] = modify.ToTimeSpec();
        if (symbolicLink)
        {
            fixed (byte* p = s_empty)
            {
                global::Interop.CheckIo(global::Interop.UtimensAt(pathHandle, p, times, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW), "utimensat(AT_EMPTY_PATH)");
            }

            return;
        }

        Span<byte> number = stackalloc byte[16];
        using MagicLinkName link = new(pathHandle, number);
        fixed (byte* p = link.Bytes)
        {
            global::Interop.CheckIo(global::Interop.UtimensAt(procSelfFd, p, times, 0), "utimensat");
        }
    }

    /// <summary>ftruncate.</summary>
    public static void Truncate(SafeFileHandle file, long length)
    {
        using FdLease fd = new(file);
        global::Interop.CheckIo(LibC.ftruncate(fd.Fd, length), "ftruncate");
    }
}

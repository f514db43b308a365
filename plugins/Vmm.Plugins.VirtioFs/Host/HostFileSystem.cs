using System.Globalization;
using Microsoft.Win32.SafeHandles;
using Tmds.Linux;
using static global::Interop.Fs;

namespace Vmm.Plugins.VirtioFs.Host;

/// <summary>
/// The file-system calls a passthrough server needs, all relative to directory handles (never a path walk):
/// names are single components given as raw bytes without the terminating NUL. Failures throw
/// <see cref="NativeCallException"/> carrying errno, which a FUSE server turns into its error reply.
/// </summary>
internal static unsafe partial class HostFileSystem
{
    /// <summary>The longest name or symlink target passed down (PATH_MAX).</summary>
    public const int MaxNameBytes = 4096;

    private static readonly byte[] s_empty = [0];
    private static readonly byte[] s_dotDot = [(byte)'.', (byte)'.', 0];

    /// <summary>Opens a directory by its host path as an O_PATH handle (the share root, once at start).</summary>
    public static SafeFileHandle OpenDirectory(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        byte[] bytes = System.Text.Encoding.UTF8.GetBytes(path + "\0");
        using SafeFileHandle cwd = new(AT_FDCWD, ownsHandle: false);
        fixed (byte* p = bytes)
        {
            return global::Interop.CheckIo(global::Interop.OpenAt(cwd, p, O_PATH | O_DIRECTORY | O_CLOEXEC, 0), "openat(O_PATH|O_DIRECTORY)");
        }
    }

    /// <summary>
    /// Opens <paramref name="name"/> in <paramref name="directory"/> as an O_PATH handle without following a
    /// symlink and without leaving the directory (openat2 RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS).
    /// </summary>
    public static SafeFileHandle OpenPathBeneath(SafeFileHandle directory, ReadOnlySpan<byte> name)
    {
        int errno = TryOpenPathBeneath(directory, name, out SafeFileHandle? handle);
        if (errno != 0)
        {
            global::Interop.ThrowForErrno(errno, "openat2(RESOLVE_BENEATH)");
        }

        return handle!;
    }

    /// <summary>
    /// <see cref="OpenPathBeneath"/> without an exception for the common misses (a guest looks up many names that
    /// do not exist): returns 0 and the handle, or errno and null.
    /// </summary>
    public static int TryOpenPathBeneath(SafeFileHandle directory, ReadOnlySpan<byte> name, out SafeFileHandle? handle)
    {
        if (name.Length > MaxNameBytes)
        {
            handle = null;
            return Errno.ENAMETOOLONG;
        }

        Span<byte> buffer = stackalloc byte[MaxNameBytes + 1];
        fixed (byte* p = Terminate(name, buffer))
        {
            var how = new global::Interop.OpenHow
            {
                Flags = (ulong)(O_PATH | O_NOFOLLOW | O_CLOEXEC),
                Resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS,
            };
            SafeFileHandle result = global::Interop.OpenAt2(SYS_openat2, directory, p, &how, (nuint)sizeof(global::Interop.OpenHow));
            if (result.IsInvalid)
            {
                int errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
                result.Dispose();
                handle = null;
                return errno;
            }

            handle = result;
            return 0;
        }
    }

    /// <summary>
    /// Stats the entry <paramref name="name"/> of <paramref name="directory"/> itself (a symlink is not followed, an
    /// automount point not triggered), without opening it: 0 and its status, or errno. The name is one component,
    /// so this resolves exactly what <see cref="TryOpenPathBeneath"/> would open.
    /// </summary>
    public static int TryStatBeneath(SafeFileHandle directory, ReadOnlySpan<byte> name, out HostFileStatus status)
    {
        status = default;
        if (name.Length > MaxNameBytes)
        {
            return Errno.ENAMETOOLONG;
        }

        Span<byte> buffer = stackalloc byte[MaxNameBytes + 1];
        global::Interop.Stat stat;
        fixed (byte* p = Terminate(name, buffer))
        {
            if (global::Interop.FStatAt(directory, p, &stat, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT) != 0)
            {
                return System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
            }
        }

        status = HostFileStatus.From(stat);
        return 0;
    }

    /// <summary>Opens the parent of <paramref name="directory"/> as an O_PATH handle.</summary>
    public static SafeFileHandle OpenParent(SafeFileHandle directory)
    {
        fixed (byte* p = s_dotDot)
        {
            return global::Interop.CheckIo(global::Interop.OpenAt(directory, p, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0), "openat(..)");
        }
    }

    /// <summary>Opens /proc/self/fd, through which O_PATH handles are reopened for I/O.</summary>
    public static SafeFileHandle OpenProcSelfFd() => OpenDirectory("/proc/self/fd");

    /// <summary>
    /// Reopens the inode behind the O_PATH handle <paramref name="pathHandle"/> for I/O with
    /// <paramref name="flags"/> (already sanitised by <see cref="SanitizeOpenFlags"/>). The /proc magic link
    /// resolves to exactly that inode. Callers reopen only regular files and directories.
    /// </summary>
    public static SafeFileHandle Reopen(SafeFileHandle procSelfFd, SafeFileHandle pathHandle, int flags)
    {
        Span<byte> number = stackalloc byte[16];
        using MagicLinkName link = new(pathHandle, number);
        fixed (byte* p = link.Bytes)
        {
            return global::Interop.CheckIo(global::Interop.OpenAt(procSelfFd, p, (flags & ~(O_CREAT | O_EXCL | O_NOFOLLOW | O_PATH)) | O_CLOEXEC, 0), "openat(/proc/self/fd)");
        }
    }

    /// <summary>Creates (or with <paramref name="exclusive"/> false, opens) a regular file, never following a symlink.</summary>
    public static SafeFileHandle CreateFile(SafeFileHandle directory, ReadOnlySpan<byte> name, int flags, uint mode, bool exclusive)
    {
        Span<byte> buffer = stackalloc byte[MaxNameBytes + 1];
        fixed (byte* p = Terminate(name, buffer))
        {
            int all = (flags & ~(O_PATH | O_DIRECTORY)) | O_CREAT | O_NOFOLLOW | O_CLOEXEC | (exclusive ? O_EXCL : 0);
            return global::Interop.CheckIo(global::Interop.OpenAt(directory, p, all, mode), "openat(O_CREAT)");
        }
    }

    /// <summary>Gets an O_PATH handle for the inode an open handle refers to.</summary>
    public static SafeFileHandle PathHandleOf(SafeFileHandle procSelfFd, SafeFileHandle open) => Reopen(procSelfFd, open, O_PATH);

    /// <summary>
    /// Keeps the open flags a guest may ask for and that are safe on the host: access mode, append, sync, truncate,
    /// non-blocking. Drops create/exclusive (the path is not resolved), O_DIRECT (host alignment rules), O_NOATIME,
    /// O_PATH and O_TMPFILE.
    /// </summary>
    public static int SanitizeOpenFlags(int flags)
        => flags & (O_ACCMODE | O_APPEND | O_NONBLOCK | O_DSYNC | O_SYNC | O_TRUNC | O_LARGEFILE | O_DIRECTORY);

    /// <summary>O_DIRECTORY, which a file create must not carry.</summary>
    public static int DirectoryOnlyFlag => O_DIRECTORY;

    /// <summary>Whether <paramref name="flags"/> truncate (O_TRUNC).</summary>
    public static bool Truncates(int flags) => (flags & O_TRUNC) != 0;

    /// <summary>Whether the guest asked for O_EXCL.</summary>
    public static bool IsExclusiveCreate(int flags) => (flags & O_EXCL) != 0;

    /// <summary>Whether <paramref name="flags"/> ask for write access or truncation.</summary>
    public static bool WantsWrite(int flags) => (flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC) != 0;

    /// <summary>The flags for reading only, for writing only and for both.</summary>
    public static int ReadOnlyFlags => O_RDONLY;

    /// <inheritdoc cref="ReadOnlyFlags"/>
    public static int ReadWriteFlags => O_RDWR;

    /// <inheritdoc cref="ReadOnlyFlags"/>
    public static int WriteOnlyFlags => O_WRONLY;

    /// <summary>Flags for reading a directory's entries.</summary>
    public static int DirectoryFlags => O_RDONLY | O_DIRECTORY;

    /// <summary>Flags for reading extended attributes of a file or directory.</summary>
    public static int AttributeFlags => O_RDONLY | O_NONBLOCK;

    /// <summary>Stats the inode itself (a symlink is not followed).</summary>
    public static HostFileStatus Stat(SafeFileHandle handle)
    {
        global::Interop.Stat stat;
        fixed (byte* p = s_empty)
        {
            global::Interop.CheckIo(global::Interop.FStatAt(handle, p, &stat, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW), "fstatat(AT_EMPTY_PATH)");
        }

        return HostFileStatus.From(stat);
    }

    /// <summary>Reads the target of the symlink behind an O_PATH handle. Returns the byte count (truncated to the buffer).</summary>
    public static int ReadLink(SafeFileHandle handle, Span<byte> target)
    {
        fixed (byte* p = s_empty)
        fixed (byte* t = target)
        {
            return (int)global::Interop.CheckIo((long)global::Interop.ReadLinkAt(handle, p, t, (nuint)target.Length), "readlinkat");
        }
    }

    /// <summary>Whether this process runs as root (it may then give new files the guest caller's ids).</summary>
    public static bool IsPrivileged => LibC.geteuid() == 0;

    private static ReadOnlySpan<byte> Terminate(ReadOnlySpan<byte> name, Span<byte> buffer)
    {
        if (name.Length > MaxNameBytes)
        {
            global::Interop.ThrowForErrno(Errno.ENAMETOOLONG, "name");
        }

        name.CopyTo(buffer);
        buffer[name.Length] = 0;
        return buffer[..(name.Length + 1)];
    }

    /// <summary>
    /// The <c>/proc/self/fd/N</c> name of an O_PATH handle. It holds a reference on the handle until disposed, so a
    /// FORGET on another thread cannot close the fd and let an unrelated open reuse its number while the name is in
    /// use: the name always means the inode the caller checked.
    /// </summary>
    private ref struct MagicLinkName
    {
        private readonly SafeFileHandle _handle;
        private bool _referenced;

        public MagicLinkName(SafeFileHandle handle, Span<byte> buffer)
        {
            _handle = handle;
            handle.DangerousAddRef(ref _referenced);
            int fd = (int)handle.DangerousGetHandle();
            fd.TryFormat(buffer, out int written, provider: CultureInfo.InvariantCulture);
            buffer[written] = 0;
            Bytes = buffer[..(written + 1)];
        }

        public ReadOnlySpan<byte> Bytes { get; }

        public void Dispose()
        {
            if (_referenced)
            {
                _referenced = false;
                _handle.DangerousRelease();
            }
        }
    }
}

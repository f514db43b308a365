using Microsoft.Win32.SafeHandles;
using static global::Interop.Fs;

namespace Vmm.Plugins.VirtioFs.Host;

/// <summary>Calls on open files: data, sync, allocation, seeks, directory entries, file-system status, extended attributes.</summary>
internal static unsafe partial class HostFileSystem
{
    /// <summary>pread into <paramref name="destination"/>; returns the bytes read (0 at end of file).</summary>
    public static int ReadAt(SafeFileHandle file, Span<byte> destination, long offset)
    {
        fixed (byte* p = destination)
        {
            return (int)global::Interop.CheckIo((long)global::Interop.PRead(file, p, (nuint)destination.Length, offset), "pread");
        }
    }

    /// <summary>pwrite from <paramref name="source"/>; returns the bytes written.</summary>
    public static int WriteAt(SafeFileHandle file, ReadOnlySpan<byte> source, long offset)
    {
        fixed (byte* p = source)
        {
            return (int)global::Interop.CheckIo((long)global::Interop.PWrite(file, p, (nuint)source.Length, offset), "pwrite");
        }
    }

    /// <summary>
    /// preadv into memory the segments describe (mapped, stable memory such as guest RAM); at most
    /// <see cref="HostIoSegment.MaxCount"/> segments. Returns the bytes read (short at end of file).
    /// </summary>
    public static long ReadAt(SafeFileHandle file, ReadOnlySpan<HostIoSegment> segments, long offset)
    {
        fixed (HostIoSegment* p = segments)
        {
            return global::Interop.CheckIo((long)global::Interop.PReadV(file, p, segments.Length, offset), "preadv");
        }
    }

    /// <summary>pwritev from the memory the segments describe; returns the bytes written.</summary>
    public static long WriteAt(SafeFileHandle file, ReadOnlySpan<HostIoSegment> segments, long offset)
    {
        fixed (HostIoSegment* p = segments)
        {
            return global::Interop.CheckIo((long)global::Interop.PWriteV(file, p, segments.Length, offset), "pwritev");
        }
    }

    /// <summary>fsync, or fdatasync when <paramref name="dataOnly"/>.</summary>
    public static void Sync(SafeFileHandle file, bool dataOnly)
        => global::Interop.CheckIo(dataOnly ? global::Interop.FDataSync(file) : global::Interop.FSync(file), dataOnly ? "fdatasync" : "fsync");

    /// <summary>syncfs on the file system holding <paramref name="file"/>.</summary>
    public static void SyncFileSystem(SafeFileHandle file) => global::Interop.CheckIo(global::Interop.SyncFs(file), "syncfs");

    /// <summary>fallocate with the guest's FALLOC_FL_* mode (same values as the host's).</summary>
    public static void Allocate(SafeFileHandle file, int mode, long offset, long length)
        => global::Interop.CheckIo(global::Interop.Fallocate(file, mode, offset, length), "fallocate");

    /// <summary>copy_file_range between two open files; returns the bytes copied.</summary>
    public static long CopyRange(SafeFileHandle input, long inputOffset, SafeFileHandle output, long outputOffset, long length)
    {
        return global::Interop.CheckIo((long)global::Interop.CopyFileRange(input, &inputOffset, output, &outputOffset, (nuint)length, 0), "copy_file_range");
    }

    /// <summary>lseek with SEEK_DATA (<paramref name="hole"/> false) or SEEK_HOLE.</summary>
    public static long SeekDataOrHole(SafeFileHandle file, long offset, bool hole)
        => global::Interop.CheckIo(global::Interop.Lseek(file, offset, hole ? SEEK_HOLE : SEEK_DATA), "lseek");

    /// <summary>The whence values LSEEK may carry: SEEK_DATA, SEEK_HOLE.</summary>
    public static bool IsDataOrHoleWhence(uint whence, out bool hole)
    {
        hole = whence == SEEK_HOLE;
        return whence is SEEK_DATA or SEEK_HOLE;
    }

    /// <summary>
    /// Positions a directory handle at the cookie <paramref name="position"/> and reads <c>linux_dirent64</c>
    /// records (d_ino@0 d_off@8 d_reclen@16 d_type@18 d_name@19) into <paramref name="buffer"/>.
    /// </summary>
    public static int ReadDirectory(SafeFileHandle directory, long position, Span<byte> buffer)
    {
        global::Interop.CheckIo(global::Interop.Lseek(directory, position, SEEK_SET), "lseek(directory)");
        fixed (byte* p = buffer)
        {
            return (int)global::Interop.CheckIo((long)global::Interop.GetDents64(directory, p, (nuint)buffer.Length), "getdents64");
        }
    }

    /// <summary>fstatfs.</summary>
    public static HostFileSystemStatus StatFileSystem(SafeFileHandle handle)
    {
        global::Interop.StatFs result;
        global::Interop.CheckIo(global::Interop.FStatFs(handle, &result), "fstatfs");
        return new HostFileSystemStatus(result.Blocks, result.BlocksFree, result.BlocksAvailable, result.Files, result.FilesFree,
            (uint)result.BlockSize, (uint)result.NameLength, (uint)result.FragmentSize, result.Type);
    }

    /// <summary>fgetxattr; with an empty <paramref name="value"/> returns the size needed.</summary>
    public static int GetAttribute(SafeFileHandle file, ReadOnlySpan<byte> name, Span<byte> value)
    {
        Span<byte> buffer = stackalloc byte[MaxNameBytes + 1];
        fixed (byte* n = Terminate(name, buffer))
        fixed (byte* v = value)
        {
            return (int)global::Interop.CheckIo((long)global::Interop.FGetXattr(file, n, value.IsEmpty ? null : v, (nuint)value.Length), "fgetxattr");
        }
    }

    /// <summary>fsetxattr with the guest's XATTR_CREATE / XATTR_REPLACE flags.</summary>
    public static void SetAttribute(SafeFileHandle file, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, int flags)
    {
        Span<byte> buffer = stackalloc byte[MaxNameBytes + 1];
        fixed (byte* n = Terminate(name, buffer))
        fixed (byte* v = value)
        {
            global::Interop.CheckIo(global::Interop.FSetXattr(file, n, v, (nuint)value.Length, flags & (XATTR_CREATE | XATTR_REPLACE)), "fsetxattr");
        }
    }

    /// <summary>flistxattr; with an empty <paramref name="list"/> returns the size needed.</summary>
    public static int ListAttributes(SafeFileHandle file, Span<byte> list)
    {
        fixed (byte* l = list)
        {
            return (int)global::Interop.CheckIo((long)global::Interop.FListXattr(file, list.IsEmpty ? null : l, (nuint)list.Length), "flistxattr");
        }
    }

    /// <summary>fremovexattr.</summary>
    public static void RemoveAttribute(SafeFileHandle file, ReadOnlySpan<byte> name)
    {
        Span<byte> buffer = stackalloc byte[MaxNameBytes + 1];
        fixed (byte* n = Terminate(name, buffer))
        {
            global::Interop.CheckIo(global::Interop.FRemoveXattr(file, n), "fremovexattr");
        }
    }
}

using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

internal static partial class Interop
{
    // fcntl.h, unistd.h (x86-64 and aarch64 agree on these).
    internal const int O_RDONLY = 0;
    internal const int O_DIRECTORY = 0x10000;
    internal const int O_CLOEXEC = 0x80000;
    internal const int SEEK_SET = 0;
    internal const int AT_EMPTY_PATH = 0x1000;
    internal const uint STATX_NLINK = 0x4;
    internal const uint STATX_INO = 0x100;
    internal const uint STATX_SIZE = 0x200;

    // struct statx (linux/stat.h): one layout on every architecture, so read by offset rather than declared per arch.
    internal const int StatxSize = 256;
    internal const int StatxNlinkOffset = 16;
    internal const int StatxInoOffset = 32;
    internal const int StatxSizeOffset = 40;
    internal const int StatxDevMajorOffset = 136;
    internal const int StatxDevMinorOffset = 140;

    // struct linux_dirent64 (what getdents64 fills): d_ino u64, d_off s64, d_reclen u16, d_type u8, d_name[].
    internal const int Dirent64RecordLengthOffset = 16;
    internal const int Dirent64NameOffset = 19;

    [LibraryImport(Libraries.Libc, EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    internal static partial SafeFileHandle OpenDirectory(string path, int flags);

    // Raw descriptors for a file opened, read and closed within one call on an allocation-free path (a SafeHandle is
    // an object); nothing else may hold them.
    [LibraryImport(Libraries.Libc, EntryPoint = "openat", SetLastError = true)]
    internal static unsafe partial int OpenAtRaw(SafeFileHandle directory, byte* path, int flags);

    [LibraryImport(Libraries.Libc, EntryPoint = "read", SetLastError = true)]
    internal static unsafe partial nint ReadRaw(int fd, byte* buffer, nuint count);

    [LibraryImport(Libraries.Libc, EntryPoint = "close")]
    internal static partial int CloseRaw(int fd);

    [LibraryImport(Libraries.Libc, EntryPoint = "lseek", SetLastError = true)]
    internal static partial long Lseek(SafeFileHandle fd, long offset, int whence);

    [LibraryImport(Libraries.Libc, EntryPoint = "getdents64", SetLastError = true)]
    internal static unsafe partial nint GetDents64(SafeFileHandle fd, byte* buffer, nuint count);

    [LibraryImport(Libraries.Libc, EntryPoint = "statx", SetLastError = true)]
    internal static unsafe partial int Statx(int dirFd, byte* path, int flags, uint mask, byte* buffer);
}

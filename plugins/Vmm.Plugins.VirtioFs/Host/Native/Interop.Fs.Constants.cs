internal static partial class Interop
{
    /// <summary>File-system constants (x86-64 values from asm-generic/fcntl.h, linux/fcntl.h, linux/openat2.h).</summary>
    internal static class Fs
    {
        internal const int AT_FDCWD = -100;
        internal const int AT_SYMLINK_NOFOLLOW = 0x100;
        internal const int AT_REMOVEDIR = 0x200;
        internal const int AT_SYMLINK_FOLLOW = 0x400;
        internal const int AT_NO_AUTOMOUNT = 0x800;
        internal const int AT_EMPTY_PATH = 0x1000;

        internal const int O_RDONLY = 0x0;
        internal const int O_WRONLY = 0x1;
        internal const int O_RDWR = 0x2;
        internal const int O_ACCMODE = 0x3;
        internal const int O_CREAT = 0x40;
        internal const int O_EXCL = 0x80;
        internal const int O_NOCTTY = 0x100;
        internal const int O_TRUNC = 0x200;
        internal const int O_APPEND = 0x400;
        internal const int O_NONBLOCK = 0x800;
        internal const int O_DSYNC = 0x1000;
        internal const int O_DIRECT = 0x4000;
        internal const int O_LARGEFILE = 0x8000;
        internal const int O_DIRECTORY = 0x10000;
        internal const int O_NOFOLLOW = 0x20000;
        internal const int O_NOATIME = 0x40000;
        internal const int O_CLOEXEC = 0x80000;
        internal const int O_SYNC = 0x101000;
        internal const int O_PATH = 0x200000;
        internal const int O_TMPFILE = 0x410000;

        internal const ulong RESOLVE_NO_XDEV = 0x01;
        internal const ulong RESOLVE_NO_MAGICLINKS = 0x02;
        internal const ulong RESOLVE_NO_SYMLINKS = 0x04;
        internal const ulong RESOLVE_BENEATH = 0x08;
        internal const ulong RESOLVE_IN_ROOT = 0x10;

        internal const uint S_IFMT = 0xF000;
        internal const uint S_IFSOCK = 0xC000;
        internal const uint S_IFLNK = 0xA000;
        internal const uint S_IFREG = 0x8000;
        internal const uint S_IFBLK = 0x6000;
        internal const uint S_IFDIR = 0x4000;
        internal const uint S_IFCHR = 0x2000;
        internal const uint S_IFIFO = 0x1000;

        internal const int SEEK_SET = 0;
        internal const int SEEK_DATA = 3;
        internal const int SEEK_HOLE = 4;

        internal const uint RENAME_NOREPLACE = 1;
        internal const uint RENAME_EXCHANGE = 2;
        internal const uint RENAME_WHITEOUT = 4;

        internal const long UTIME_NOW = (1L << 30) - 1;
        internal const long UTIME_OMIT = (1L << 30) - 2;

        internal const int XATTR_CREATE = 1;
        internal const int XATTR_REPLACE = 2;

        /// <summary>SYS_openat2 on x86-64 and arm64 (the generic table).</summary>
        internal const long SYS_openat2 = 437;
    }
}

using System.Runtime.InteropServices;

internal static partial class Interop
{
    /// <summary><c>struct stat</c> on x86-64 (144 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct Stat
    {
        public ulong Dev;
        public ulong Ino;
        public ulong Nlink;
        public uint Mode;
        public uint Uid;
        public uint Gid;
        public int Pad0;
        public ulong Rdev;
        public long Size;
        public long BlockSize;
        public long Blocks;
        public long AtimeSec;
        public long AtimeNsec;
        public long MtimeSec;
        public long MtimeNsec;
        public long CtimeSec;
        public long CtimeNsec;
        public long Reserved0;
        public long Reserved1;
        public long Reserved2;
    }

    /// <summary><c>struct statfs</c> on x86-64 (120 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct StatFs
    {
        public long Type;
        public long BlockSize;
        public ulong Blocks;
        public ulong BlocksFree;
        public ulong BlocksAvailable;
        public ulong Files;
        public ulong FilesFree;
        public long FsId;
        public long NameLength;
        public long FragmentSize;
        public long Flags;
        public long Spare0;
        public long Spare1;
        public long Spare2;
        public long Spare3;
    }

    /// <summary><c>struct open_how</c> (linux/openat2.h, 24 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct OpenHow
    {
        public ulong Flags;
        public ulong Mode;
        public ulong Resolve;
    }

    /// <summary><c>struct timespec</c>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }
}

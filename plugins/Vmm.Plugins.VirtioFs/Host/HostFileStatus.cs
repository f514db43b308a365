namespace Vmm.Plugins.VirtioFs.Host;

/// <summary>What <c>fstatat</c> says about one host inode, in the units FUSE reports.</summary>
internal readonly record struct HostFileStatus(
    ulong Device,
    ulong Inode,
    ulong LinkCount,
    uint Mode,
    uint Uid,
    uint Gid,
    ulong RawDevice,
    long Size,
    long BlockSize,
    long Blocks,
    long AccessSeconds,
    long AccessNanoseconds,
    long ModifySeconds,
    long ModifyNanoseconds,
    long ChangeSeconds,
    long ChangeNanoseconds)
{
    /// <summary>The file-type bits of <see cref="Mode"/>.</summary>
    public uint FileType => Mode & global::Interop.Fs.S_IFMT;

    /// <summary>A directory.</summary>
    public bool IsDirectory => FileType == global::Interop.Fs.S_IFDIR;

    /// <summary>A regular file.</summary>
    public bool IsRegularFile => FileType == global::Interop.Fs.S_IFREG;

    /// <summary>A symbolic link.</summary>
    public bool IsSymbolicLink => FileType == global::Interop.Fs.S_IFLNK;

    internal static HostFileStatus From(in global::Interop.Stat stat) => new(
        stat.Dev, stat.Ino, stat.Nlink, stat.Mode, stat.Uid, stat.Gid, stat.Rdev, stat.Size, stat.BlockSize, stat.Blocks,
        stat.AtimeSec, stat.AtimeNsec, stat.MtimeSec, stat.MtimeNsec, stat.CtimeSec, stat.CtimeNsec);
}

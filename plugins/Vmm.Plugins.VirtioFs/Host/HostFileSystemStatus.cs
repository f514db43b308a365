namespace Vmm.Plugins.VirtioFs.Host;

/// <summary>What <c>fstatfs</c> says about a host file system.</summary>
internal readonly record struct HostFileSystemStatus(
    ulong Blocks,
    ulong BlocksFree,
    ulong BlocksAvailable,
    ulong Files,
    ulong FilesFree,
    uint BlockSize,
    uint NameLength,
    uint FragmentSize,
    long Type)
{
    // f_type values of the kernel's own file systems (linux/magic.h): views of the host kernel and of every
    // process (proc's /proc/<pid>/mem, /proc/kcore, sysfs attributes), never data a guest should reach.
    private static readonly long[] s_kernelInterfaceTypes =
    [
        0x9fa0,             // PROC_SUPER_MAGIC
        0x62656572,         // SYSFS_MAGIC
        0x64626720,         // DEBUGFS_MAGIC
        0x74726163,         // TRACEFS_MAGIC
        0x73636673,         // SECURITYFS_MAGIC
        0xf97cff8c,         // SELINUX_MAGIC
        0x6165676c,         // PSTOREFS_MAGIC
        0xde5e81e4,         // EFIVARFS_MAGIC
        0x62656570,         // CONFIGFS_MAGIC
        0x27e0eb,           // CGROUP_SUPER_MAGIC
        0x63677270,         // CGROUP2_SUPER_MAGIC
        0xcafe4a11,         // BPF_FS_MAGIC
        0x42494e4d,         // BINFMTFS_MAGIC
        0x65735543,         // FUSE_CTL_SUPER_MAGIC
        0x1cd1,             // DEVPTS_SUPER_MAGIC
        0x6e736673,         // NSFS_MAGIC
        0x19800202,         // MQUEUE_MAGIC
        0x67596969,         // RPCAUTH_GSSMAGIC (rpc_pipefs)
        0x0187,             // AUTOFS_SUPER_MAGIC: a lookup can trigger a mount and block the request thread
    ];

    /// <summary>Whether this is one of the kernel's interface file systems (procfs, sysfs, debugfs, cgroup, ...).</summary>
    public bool IsKernelInterface => Array.IndexOf(s_kernelInterfaceTypes, Type) >= 0;
}

using System.Runtime.InteropServices;

namespace Vmm.Plugins.VirtioFs.Fuse;

#pragma warning disable SA1649, SA1402 // The wire structs of fuse.h live together, in its order.
/// <summary><c>struct fuse_in_header</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FuseInHeader
{
    public uint Length;
    public FuseOpcode Opcode;
    public ulong Unique;
    public ulong NodeId;
    public uint Uid;
    public uint Gid;
    public uint Pid;
    public ushort TotalExtensionLength;
    public ushort Padding;
}

/// <summary><c>struct fuse_out_header</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FuseOutHeader
{
    public uint Length;
    public int Error;
    public ulong Unique;
}

/// <summary><c>struct fuse_attr</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FuseAttr
{
    public ulong Inode;
    public ulong Size;
    public ulong Blocks;
    public ulong AccessSeconds;
    public ulong ModifySeconds;
    public ulong ChangeSeconds;
    public uint AccessNanoseconds;
    public uint ModifyNanoseconds;
    public uint ChangeNanoseconds;
    public uint Mode;
    public uint LinkCount;
    public uint Uid;
    public uint Gid;
    public uint Device;
    public uint BlockSize;
    public uint Flags;
}

/// <summary><c>struct fuse_entry_out</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FuseEntryOut
{
    public ulong NodeId;
    public ulong Generation;
    public ulong EntryValid;
    public ulong AttrValid;
    public uint EntryValidNanoseconds;
    public uint AttrValidNanoseconds;
    public FuseAttr Attr;
}

/// <summary><c>struct fuse_attr_out</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FuseAttrOut
{
    public ulong AttrValid;
    public uint AttrValidNanoseconds;
    public uint Dummy;
    public FuseAttr Attr;
}

/// <summary><c>struct fuse_getattr_in</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FuseGetAttrIn
{
    public uint GetattrFlags;
    public uint Dummy;
    public ulong FileHandle;
}

/// <summary><c>struct fuse_open_in</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FuseOpenIn
{
    public uint Flags;
    public uint OpenFlags;
}

/// <summary><c>struct fuse_open_out</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FuseOpenOut
{
    public ulong FileHandle;
    public uint OpenFlags;
    public uint Padding;
}

/// <summary><c>struct fuse_init_in</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct FuseInitIn
{
    public uint Major;
    public uint Minor;
    public uint MaxReadahead;
    public uint Flags;
    public uint Flags2;
    private fixed uint _unused[11];
}

/// <summary><c>struct fuse_init_out</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct FuseInitOut
{
    public uint Major;
    public uint Minor;
    public uint MaxReadahead;
    public uint Flags;
    public ushort MaxBackground;
    public ushort CongestionThreshold;
    public uint MaxWrite;
    public uint TimeGran;
    public ushort MaxPages;
    public ushort MapAlignment;
    public uint Flags2;
    private fixed uint _unused[7];
}

/// <summary><c>struct fuse_read_in</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FuseReadIn
{
    public ulong FileHandle;
    public ulong Offset;
    public uint Size;
    public uint ReadFlags;
    public ulong LockOwner;
    public uint Flags;
    public uint Padding;
}

/// <summary><c>struct fuse_write_in</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FuseWriteIn
{
    public ulong FileHandle;
    public ulong Offset;
    public uint Size;
    public uint WriteFlags;
    public ulong LockOwner;
    public uint Flags;
    public uint Padding;
}

/// <summary><c>struct fuse_write_out</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FuseWriteOut
{
    public uint Size;
    public uint Padding;
}

/// <summary><c>struct fuse_kstatfs</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct FuseKStatFs
{
    public ulong Blocks;
    public ulong BlocksFree;
    public ulong BlocksAvailable;
    public ulong Files;
    public ulong FilesFree;
    public uint BlockSize;
    public uint NameLength;
    public uint FragmentSize;
    public uint Padding;
    private fixed uint _spare[6];
}

/// <summary><c>struct fuse_statfs_out</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FuseStatFsOut
{
    public FuseKStatFs Status;
}

/// <summary><c>struct fuse_dirent</c> without its name, which follows padded to 8 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FuseDirent
{
    public ulong Inode;
    public ulong Offset;
    public uint NameLength;
    public uint Type;
}

/// <summary><c>struct fuse_setattr_in</c>.</summary>
/// <remarks>
/// Its six time fields repeat <see cref="FuseAttr"/>'s because fuse.h repeats them: each struct here mirrors one C
/// struct field by field, as the header test checks, rather than nesting a shared part the header does not have.
/// </remarks>
[StructLayout(LayoutKind.Sequential)]
internal struct FuseSetAttrIn
{
    public uint Valid;
    public uint Padding;
    public ulong FileHandle;
    public ulong Size;
    public ulong LockOwner;
    public ulong AccessSeconds;
    public ulong ModifySeconds;
    public ulong ChangeSeconds;
    public uint AccessNanoseconds;
    public uint ModifyNanoseconds;
    public uint ChangeNanoseconds;
    public uint Mode;
    public uint Unused4;
    public uint Uid;
    public uint Gid;
    public uint Unused5;
}

/// <summary><c>struct fuse_create_in</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FuseCreateIn
{
    public uint Flags;
    public uint Mode;
    public uint Umask;
    public uint OpenFlags;
}

/// <summary><c>struct fuse_mknod_in</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FuseMknodIn
{
    public uint Mode;
    public uint Device;
    public uint Umask;
    public uint Padding;
}

/// <summary><c>struct fuse_mkdir_in</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FuseMkdirIn
{
    public uint Mode;
    public uint Umask;
}

/// <summary><c>struct fuse_release_in</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FuseReleaseIn
{
    public ulong FileHandle;
    public uint Flags;
    public uint ReleaseFlags;
    public ulong LockOwner;
}

/// <summary><c>struct fuse_flush_in</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FuseFlushIn
{
    public ulong FileHandle;
    public uint Unused;
    public uint Padding;
    public ulong LockOwner;
}

/// <summary><c>struct fuse_fsync_in</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FuseFsyncIn
{
    public ulong FileHandle;
    public uint FsyncFlags;
    public uint Padding;
}

/// <summary><c>struct fuse_getxattr_in</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FuseGetXattrIn
{
    public uint Size;
    public uint Padding;
}

/// <summary><c>struct fuse_getxattr_out</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FuseGetXattrOut
{
    public uint Size;
    public uint Padding;
}

/// <summary><c>struct fuse_setxattr_in</c> as sent without FUSE_SETXATTR_EXT (FUSE_COMPAT_SETXATTR_IN_SIZE, 8 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FuseSetXattrIn
{
    public uint Size;
    public uint Flags;
}

/// <summary><c>struct fuse_lseek_in</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FuseLSeekIn
{
    public ulong FileHandle;
    public ulong Offset;
    public uint Whence;
    public uint Padding;
}

/// <summary><c>struct fuse_lseek_out</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FuseLSeekOut
{
    public ulong Offset;
}

/// <summary><c>struct fuse_fallocate_in</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FuseFallocateIn
{
    public ulong FileHandle;
    public ulong Offset;
    public ulong Length;
    public uint Mode;
    public uint Padding;
}

/// <summary><c>struct fuse_copy_file_range_in</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FuseCopyFileRangeIn
{
    public ulong FileHandleIn;
    public ulong OffsetIn;
    public ulong NodeIdOut;
    public ulong FileHandleOut;
    public ulong OffsetOut;
    public ulong Length;
    public ulong Flags;
}

/// <summary><c>struct fuse_rename2_in</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FuseRename2In
{
    public ulong NewDirectory;
    public uint Flags;
    public uint Padding;
}

/// <summary><c>struct fuse_rename_in</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FuseRenameIn
{
    public ulong NewDirectory;
}

/// <summary><c>struct fuse_link_in</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FuseLinkIn
{
    public ulong OldNodeId;
}

/// <summary><c>struct fuse_forget_in</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FuseForgetIn
{
    public ulong LookupCount;
}

/// <summary><c>struct fuse_batch_forget_in</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FuseBatchForgetIn
{
    public uint Count;
    public uint Dummy;
}

/// <summary><c>struct fuse_forget_one</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FuseForgetOne
{
    public ulong NodeId;
    public ulong LookupCount;
}

/// <summary><c>struct fuse_setupmapping_in</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FuseSetupMappingIn
{
    public ulong FileHandle;
    public ulong FileOffset;
    public ulong Length;
    public ulong Flags;
    public ulong WindowOffset;
}

/// <summary><c>struct fuse_removemapping_in</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FuseRemoveMappingIn
{
    public uint Count;
}

/// <summary><c>struct fuse_removemapping_one</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FuseRemoveMappingOne
{
    public ulong WindowOffset;
    public ulong Length;
}

/// <summary><c>struct fuse_ioctl_in</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FuseIoctlIn
{
    public ulong FileHandle;
    public uint Flags;
    public uint Command;
    public ulong Argument;
    public uint InSize;
    public uint OutSize;
}

/// <summary><c>struct fuse_ioctl_out</c>: followed by the out_size bytes a restricted ioctl returns.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FuseIoctlOut
{
    public int Result;
    public uint Flags;
    public uint InIovs;
    public uint OutIovs;
}

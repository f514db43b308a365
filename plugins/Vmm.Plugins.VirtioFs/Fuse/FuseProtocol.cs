namespace Vmm.Plugins.VirtioFs.Fuse;

/// <summary>FUSE wire sizes and flag values (fuse.h 7.36/7.37, as Linux 6.1 speaks it).</summary>
internal static class FuseProtocol
{
    public const uint KernelMajor = 7;

    /// <summary>The minor version this server speaks; the kernel uses min(its, ours).</summary>
    public const uint ServerMinor = 36;

    public const ulong RootNodeId = 1;

    public const int InHeaderSize = 40;
    public const int OutHeaderSize = 16;
    public const int AttrSize = 88;
    public const int EntryOutSize = 128;
    public const int AttrOutSize = 104;
    public const int OpenOutSize = 16;
    public const int InitInSize = 64;

    /// <summary>FUSE_COMPAT_INIT_IN_SIZE... the fuse_init_in before flags2 (7.36): major, minor, max_readahead, flags.</summary>
    public const int CompatInitInSize = 16;
    public const int InitOutSize = 64;
    public const int ReadInSize = 40;
    public const int WriteInSize = 40;
    public const int KStatFsSize = 80;
    public const int DirentHeaderSize = 24;
    public const int SetupMappingInSize = 40;
    public const int RemoveMappingOneSize = 16;

    /// <summary>The largest READ/WRITE payload we announce (256 pages).</summary>
    public const int MaxWrite = 1 << 20;

    public const ushort MaxPages = 256;

    /// <summary>The largest name (NAME_MAX).</summary>
    public const int MaxNameLength = 255;

    /// <summary>The longest path a request carries (PATH_MAX, a symlink's target).</summary>
    public const int MaxPathLength = 4096;

    /// <summary>The largest extended attribute value (XATTR_SIZE_MAX).</summary>
    public const int MaxXattrSize = 65536;

    // fuse_init flags.
    public const ulong AsyncRead = 1UL << 0;
    public const ulong BigWrites = 1UL << 5;
    public const ulong AutoInvalData = 1UL << 12;
    public const ulong DoReaddirplus = 1UL << 13;
    public const ulong ReaddirplusAuto = 1UL << 14;
    public const ulong AsyncDio = 1UL << 15;
    public const ulong ParallelDirops = 1UL << 18;
    public const ulong MaxPagesFlag = 1UL << 22;
    public const ulong MapAlignment = 1UL << 26;
    public const ulong HandleKillprivV2 = 1UL << 28;
    public const ulong InitExt = 1UL << 30;

    // fuse_write_in.write_flags, fuse_open_in/fuse_create_in.open_flags: the caller lacks CAP_FSETID (KILLPRIV_V2).
    public const uint WriteKillSuidgid = 1 << 2;
    public const uint OpenKillSuidgid = 1 << 0;

    // fuse_open_out.open_flags.
    public const uint FopenDirectIo = 1;
    public const uint FopenKeepCache = 2;

    // fuse_setattr_in.valid.
    public const uint FattrMode = 1 << 0;
    public const uint FattrUid = 1 << 1;
    public const uint FattrGid = 1 << 2;
    public const uint FattrSize = 1 << 3;
    public const uint FattrAtime = 1 << 4;
    public const uint FattrMtime = 1 << 5;
    public const uint FattrFh = 1 << 6;
    public const uint FattrAtimeNow = 1 << 7;
    public const uint FattrMtimeNow = 1 << 8;
    public const uint FattrKillSuidgid = 1 << 11;

    public const uint GetattrFh = 1;
    public const uint FsyncFdatasync = 1;

    public const ulong SetupMappingWrite = 1;
    public const ulong SetupMappingRead = 2;

    // Mode bits the server polices.
    public const uint FileTypeMask = 0xF000;
    public const uint Directory = 0x4000;
    public const uint RegularFile = 0x8000;
    public const uint Symlink = 0xA000;
    public const uint CharacterDevice = 0x2000;
    public const uint BlockDevice = 0x6000;
    public const uint Fifo = 0x1000;
    public const uint Socket = 0xC000;
    public const uint PermissionMask = 0xFFF;
    public const uint SetUid = 0x800;
    public const uint SetGid = 0x400;
    public const uint GroupExecute = 0x8;
}

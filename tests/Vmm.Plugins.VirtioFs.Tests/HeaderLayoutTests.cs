using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;
using Vmm.Plugins.VirtioFs.Fuse;
using Vmm.Testing.Native;

namespace Vmm.Plugins.VirtioFs.Tests;

/// <summary>The file-system interop constants and structs, and the FUSE wire values, checked against the C headers with gcc.</summary>
public sealed class HeaderLayoutTests
{
    [Fact]
    public void FileSystemConstantsMatchTheHeaders()
    {
        string compiler = RequireCompiler();
        var check = new CHeaderCheck().Include("fcntl.h").Include("sys/stat.h").Include("stdio.h").Include("sys/xattr.h")
            .Include("sys/syscall.h").Include("linux/openat2.h").Include("linux/fs.h");
        foreach (FieldInfo field in typeof(global::Interop.Fs).GetFields(BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.Public))
        {
            // glibc defines O_LARGEFILE as 0 on 64-bit; ours is the kernel's value a guest may send (asm-generic 0100000).
            if (field.IsLiteral && field.Name != "O_LARGEFILE")
            {
                check.Equal(field.Name, unchecked((ulong)Convert.ToInt64(field.GetRawConstantValue(), CultureInfo.InvariantCulture)), field.Name);
            }
        }

        Assert.True(check.Count >= 45, $"Only {check.Count} constants found.");
        AssertNoMismatches(check, compiler);
    }

    [Fact]
    public void FileSystemStructsMatchTheHeaders()
    {
        string compiler = RequireCompiler();
        var check = new CHeaderCheck().Include("stddef.h").Include("sys/stat.h").Include("sys/vfs.h").Include("linux/openat2.h").Include("time.h")
            .Equal("sizeof(struct stat)", (ulong)Marshal.SizeOf<global::Interop.Stat>(), "sizeof(stat)")
            .Equal("sizeof(struct statfs)", (ulong)Marshal.SizeOf<global::Interop.StatFs>(), "sizeof(statfs)")
            .Equal("sizeof(struct open_how)", (ulong)Marshal.SizeOf<global::Interop.OpenHow>(), "sizeof(open_how)")
            .Equal("sizeof(struct timespec)", (ulong)Marshal.SizeOf<global::Interop.TimeSpec>(), "sizeof(timespec)");
        (string C, string CSharp)[] stat =
        [
            ("st_dev", "Dev"), ("st_ino", "Ino"), ("st_nlink", "Nlink"), ("st_mode", "Mode"), ("st_uid", "Uid"), ("st_gid", "Gid"),
            ("st_rdev", "Rdev"), ("st_size", "Size"), ("st_blksize", "BlockSize"), ("st_blocks", "Blocks"), ("st_atim", "AtimeSec"),
            ("st_mtim", "MtimeSec"), ("st_ctim", "CtimeSec"),
        ];
        foreach ((string c, string cs) in stat)
        {
            check.Equal($"offsetof(struct stat, {c})", (ulong)Marshal.OffsetOf<global::Interop.Stat>(cs), $"stat.{c}");
        }

        (string C, string CSharp)[] statfs =
        [
            ("f_type", "Type"), ("f_bsize", "BlockSize"), ("f_blocks", "Blocks"), ("f_bfree", "BlocksFree"), ("f_bavail", "BlocksAvailable"),
            ("f_files", "Files"), ("f_ffree", "FilesFree"), ("f_fsid", "FsId"), ("f_namelen", "NameLength"), ("f_frsize", "FragmentSize"), ("f_flags", "Flags"),
        ];
        foreach ((string c, string cs) in statfs)
        {
            check.Equal($"offsetof(struct statfs, {c})", (ulong)Marshal.OffsetOf<global::Interop.StatFs>(cs), $"statfs.{c}");
        }

        check.Equal("offsetof(struct open_how, resolve)", (ulong)Marshal.OffsetOf<global::Interop.OpenHow>("Resolve"), "open_how.resolve");
        AssertNoMismatches(check, compiler);
    }

    [Fact]
    public void EveryFuseStructMatchesTheKernelHeaderFieldByField()
    {
        string compiler = RequireCompiler();
        var check = new CHeaderCheck().Include("stddef.h").Include("linux/fuse.h")
            .Layout<FuseInHeader>("struct fuse_in_header", "len", "opcode", "unique", "nodeid", "uid", "gid", "pid", "total_extlen", "padding")
            .Layout<FuseOutHeader>("struct fuse_out_header", "len", "error", "unique")
            .Layout<FuseAttr>("struct fuse_attr", "ino", "size", "blocks", "atime", "mtime", "ctime", "atimensec", "mtimensec", "ctimensec", "mode", "nlink", "uid", "gid", "rdev", "blksize", "flags")
            .Layout<FuseEntryOut>("struct fuse_entry_out", "nodeid", "generation", "entry_valid", "attr_valid", "entry_valid_nsec", "attr_valid_nsec", "attr")
            .Layout<FuseAttrOut>("struct fuse_attr_out", "attr_valid", "attr_valid_nsec", "dummy", "attr")
            .Layout<FuseGetAttrIn>("struct fuse_getattr_in", "getattr_flags", "dummy", "fh")
            .Layout<FuseOpenIn>("struct fuse_open_in", "flags", "open_flags")
            .Layout<FuseOpenOut>("struct fuse_open_out", "fh", "open_flags", "padding")
            .Layout<FuseInitIn>("struct fuse_init_in", "major", "minor", "max_readahead", "flags", "flags2", "unused")
            .Layout<FuseInitOut>("struct fuse_init_out", "major", "minor", "max_readahead", "flags", "max_background", "congestion_threshold", "max_write", "time_gran", "max_pages", "map_alignment", "flags2", "unused")
            .Layout<FuseReadIn>("struct fuse_read_in", "fh", "offset", "size", "read_flags", "lock_owner", "flags", "padding")
            .Layout<FuseWriteIn>("struct fuse_write_in", "fh", "offset", "size", "write_flags", "lock_owner", "flags", "padding")
            .Layout<FuseWriteOut>("struct fuse_write_out", "size", "padding")
            .Layout<FuseKStatFs>("struct fuse_kstatfs", "blocks", "bfree", "bavail", "files", "ffree", "bsize", "namelen", "frsize", "padding", "spare")
            .Layout<FuseStatFsOut>("struct fuse_statfs_out", "st")
            .Layout<FuseDirent>("struct fuse_dirent", "ino", "off", "namelen", "type")
            .Layout<FuseSetAttrIn>("struct fuse_setattr_in", "valid", "padding", "fh", "size", "lock_owner", "atime", "mtime", "ctime", "atimensec", "mtimensec", "ctimensec", "mode", "unused4", "uid", "gid", "unused5")
            .Layout<FuseCreateIn>("struct fuse_create_in", "flags", "mode", "umask", "open_flags")
            .Layout<FuseMknodIn>("struct fuse_mknod_in", "mode", "rdev", "umask", "padding")
            .Layout<FuseMkdirIn>("struct fuse_mkdir_in", "mode", "umask")
            .Layout<FuseReleaseIn>("struct fuse_release_in", "fh", "flags", "release_flags", "lock_owner")
            .Layout<FuseFlushIn>("struct fuse_flush_in", "fh", "unused", "padding", "lock_owner")
            .Layout<FuseFsyncIn>("struct fuse_fsync_in", "fh", "fsync_flags", "padding")
            .Layout<FuseGetXattrIn>("struct fuse_getxattr_in", "size", "padding")
            .Layout<FuseGetXattrOut>("struct fuse_getxattr_out", "size", "padding")
            .FieldOffsets<FuseSetXattrIn>("struct fuse_setxattr_in", "size", "flags")
            .Layout<FuseLSeekIn>("struct fuse_lseek_in", "fh", "offset", "whence", "padding")
            .Layout<FuseLSeekOut>("struct fuse_lseek_out", "offset")
            .Layout<FuseFallocateIn>("struct fuse_fallocate_in", "fh", "offset", "length", "mode", "padding")
            .Layout<FuseCopyFileRangeIn>("struct fuse_copy_file_range_in", "fh_in", "off_in", "nodeid_out", "fh_out", "off_out", "len", "flags")
            .Layout<FuseRename2In>("struct fuse_rename2_in", "newdir", "flags", "padding")
            .Layout<FuseRenameIn>("struct fuse_rename_in", "newdir")
            .Layout<FuseLinkIn>("struct fuse_link_in", "oldnodeid")
            .Layout<FuseForgetIn>("struct fuse_forget_in", "nlookup")
            .Layout<FuseBatchForgetIn>("struct fuse_batch_forget_in", "count", "dummy")
            .Layout<FuseForgetOne>("struct fuse_forget_one", "nodeid", "nlookup")
            .Layout<FuseSetupMappingIn>("struct fuse_setupmapping_in", "fh", "foffset", "len", "flags", "moffset")
            .Layout<FuseRemoveMappingIn>("struct fuse_removemapping_in", "count")
            .Layout<FuseRemoveMappingOne>("struct fuse_removemapping_one", "moffset", "len")
            .Layout<FuseIoctlIn>("struct fuse_ioctl_in", "fh", "flags", "cmd", "arg", "in_size", "out_size")
            .Layout<FuseIoctlOut>("struct fuse_ioctl_out", "result", "flags", "in_iovs", "out_iovs")
            .Equal("FUSE_COMPAT_SETXATTR_IN_SIZE", (ulong)Marshal.SizeOf<FuseSetXattrIn>(), "FUSE_COMPAT_SETXATTR_IN_SIZE")
            .Equal("FUSE_HANDLE_KILLPRIV_V2", FuseProtocol.HandleKillprivV2, "FUSE_HANDLE_KILLPRIV_V2")
            .Equal("FUSE_WRITE_KILL_SUIDGID", FuseProtocol.WriteKillSuidgid, "FUSE_WRITE_KILL_SUIDGID")
            .Equal("FUSE_OPEN_KILL_SUIDGID", FuseProtocol.OpenKillSuidgid, "FUSE_OPEN_KILL_SUIDGID")
            .Equal("FATTR_KILL_SUIDGID", FuseProtocol.FattrKillSuidgid, "FATTR_KILL_SUIDGID");
        Assert.True(check.Count >= 210, $"Only {check.Count} checks.");
        AssertNoMismatches(check, compiler);
    }

    [Fact]
    public void FuseWireValuesMatchTheKernelHeader()
    {
        string compiler = RequireCompiler();
        var check = new CHeaderCheck().Include("stddef.h").Include("linux/fuse.h").Include("errno.h");
        foreach (FuseOpcode opcode in Enum.GetValues<FuseOpcode>())
        {
            string name = opcode switch
            {
                FuseOpcode.GetAttr => "FUSE_GETATTR", FuseOpcode.SetAttr => "FUSE_SETATTR", FuseOpcode.ReadLink => "FUSE_READLINK",
                FuseOpcode.MkNod => "FUSE_MKNOD", FuseOpcode.MkDir => "FUSE_MKDIR", FuseOpcode.RmDir => "FUSE_RMDIR", FuseOpcode.StatFs => "FUSE_STATFS",
                FuseOpcode.FSync => "FUSE_FSYNC", FuseOpcode.SetXattr => "FUSE_SETXATTR", FuseOpcode.GetXattr => "FUSE_GETXATTR",
                FuseOpcode.ListXattr => "FUSE_LISTXATTR", FuseOpcode.RemoveXattr => "FUSE_REMOVEXATTR", FuseOpcode.OpenDir => "FUSE_OPENDIR",
                FuseOpcode.ReadDir => "FUSE_READDIR", FuseOpcode.ReleaseDir => "FUSE_RELEASEDIR", FuseOpcode.FSyncDir => "FUSE_FSYNCDIR",
                FuseOpcode.GetLk => "FUSE_GETLK", FuseOpcode.SetLk => "FUSE_SETLK", FuseOpcode.SetLkW => "FUSE_SETLKW", FuseOpcode.BMap => "FUSE_BMAP",
                FuseOpcode.NotifyReply => "FUSE_NOTIFY_REPLY", FuseOpcode.BatchForget => "FUSE_BATCH_FORGET", FuseOpcode.ReadDirPlus => "FUSE_READDIRPLUS",
                FuseOpcode.LSeek => "FUSE_LSEEK", FuseOpcode.CopyFileRange => "FUSE_COPY_FILE_RANGE", FuseOpcode.SetupMapping => "FUSE_SETUPMAPPING",
                FuseOpcode.RemoveMapping => "FUSE_REMOVEMAPPING", FuseOpcode.SyncFs => "FUSE_SYNCFS", FuseOpcode.TmpFile => "FUSE_TMPFILE",
                _ => "FUSE_" + opcode.ToString().ToUpperInvariant(),
            };
            check.Equal(name, (ulong)opcode, name);
        }

        check.Equal("sizeof(struct fuse_in_header)", FuseProtocol.InHeaderSize, "fuse_in_header")
            .Equal("sizeof(struct fuse_out_header)", FuseProtocol.OutHeaderSize, "fuse_out_header")
            .Equal("sizeof(struct fuse_attr)", FuseProtocol.AttrSize, "fuse_attr")
            .Equal("sizeof(struct fuse_entry_out)", FuseProtocol.EntryOutSize, "fuse_entry_out")
            .Equal("sizeof(struct fuse_attr_out)", FuseProtocol.AttrOutSize, "fuse_attr_out")
            .Equal("sizeof(struct fuse_open_out)", FuseProtocol.OpenOutSize, "fuse_open_out")
            .Equal("sizeof(struct fuse_init_in)", FuseProtocol.InitInSize, "fuse_init_in")
            .Equal("sizeof(struct fuse_init_out)", FuseProtocol.InitOutSize, "fuse_init_out")
            .Equal("sizeof(struct fuse_read_in)", FuseProtocol.ReadInSize, "fuse_read_in")
            .Equal("sizeof(struct fuse_write_in)", FuseProtocol.WriteInSize, "fuse_write_in")
            .Equal("sizeof(struct fuse_kstatfs)", FuseProtocol.KStatFsSize, "fuse_kstatfs")
            .Equal("sizeof(struct fuse_dirent)", FuseProtocol.DirentHeaderSize, "fuse_dirent")
            .Equal("sizeof(struct fuse_setupmapping_in)", FuseProtocol.SetupMappingInSize, "fuse_setupmapping_in")
            .Equal("sizeof(struct fuse_removemapping_one)", FuseProtocol.RemoveMappingOneSize, "fuse_removemapping_one")
            .Equal("sizeof(struct fuse_setattr_in)", 88, "fuse_setattr_in")
            .Equal("sizeof(struct fuse_create_in)", 16, "fuse_create_in")
            .Equal("sizeof(struct fuse_copy_file_range_in)", 56, "fuse_copy_file_range_in")
            .Equal("sizeof(struct fuse_fallocate_in)", 32, "fuse_fallocate_in")
            .Equal("sizeof(struct fuse_lseek_in)", 24, "fuse_lseek_in")
            .Equal("sizeof(struct fuse_rename2_in)", 16, "fuse_rename2_in")
            .Equal("sizeof(struct fuse_mknod_in)", 16, "fuse_mknod_in")
            .Equal("sizeof(struct fuse_removemapping_in)", 4, "fuse_removemapping_in")
            .Equal("offsetof(struct fuse_init_out, max_pages)", 28, "fuse_init_out.max_pages")
            .Equal("offsetof(struct fuse_init_out, map_alignment)", 30, "fuse_init_out.map_alignment")
            .Equal("offsetof(struct fuse_init_out, flags2)", 32, "fuse_init_out.flags2")
            .Equal("offsetof(struct fuse_attr, blksize)", 80, "fuse_attr.blksize")
            .Equal("offsetof(struct fuse_entry_out, attr)", 40, "fuse_entry_out.attr")
            .Equal("offsetof(struct fuse_attr_out, attr)", 16, "fuse_attr_out.attr")
            .Equal("FUSE_ROOT_ID", FuseProtocol.RootNodeId, "FUSE_ROOT_ID")
            .Equal("FUSE_KERNEL_VERSION", FuseProtocol.KernelMajor, "FUSE_KERNEL_VERSION")
            .Equal("FUSE_ASYNC_READ", FuseProtocol.AsyncRead, "FUSE_ASYNC_READ")
            .Equal("FUSE_BIG_WRITES", FuseProtocol.BigWrites, "FUSE_BIG_WRITES")
            .Equal("FUSE_AUTO_INVAL_DATA", FuseProtocol.AutoInvalData, "FUSE_AUTO_INVAL_DATA")
            .Equal("FUSE_DO_READDIRPLUS", FuseProtocol.DoReaddirplus, "FUSE_DO_READDIRPLUS")
            .Equal("FUSE_READDIRPLUS_AUTO", FuseProtocol.ReaddirplusAuto, "FUSE_READDIRPLUS_AUTO")
            .Equal("FUSE_ASYNC_DIO", FuseProtocol.AsyncDio, "FUSE_ASYNC_DIO")
            .Equal("FUSE_PARALLEL_DIROPS", FuseProtocol.ParallelDirops, "FUSE_PARALLEL_DIROPS")
            .Equal("FUSE_MAX_PAGES", FuseProtocol.MaxPagesFlag, "FUSE_MAX_PAGES")
            .Equal("FUSE_MAP_ALIGNMENT", FuseProtocol.MapAlignment, "FUSE_MAP_ALIGNMENT")
            .Equal("FUSE_INIT_EXT", FuseProtocol.InitExt, "FUSE_INIT_EXT")
            .Equal("FOPEN_DIRECT_IO", FuseProtocol.FopenDirectIo, "FOPEN_DIRECT_IO")
            .Equal("FOPEN_KEEP_CACHE", FuseProtocol.FopenKeepCache, "FOPEN_KEEP_CACHE")
            .Equal("FATTR_MODE", FuseProtocol.FattrMode, "FATTR_MODE")
            .Equal("FATTR_UID", FuseProtocol.FattrUid, "FATTR_UID")
            .Equal("FATTR_GID", FuseProtocol.FattrGid, "FATTR_GID")
            .Equal("FATTR_SIZE", FuseProtocol.FattrSize, "FATTR_SIZE")
            .Equal("FATTR_ATIME", FuseProtocol.FattrAtime, "FATTR_ATIME")
            .Equal("FATTR_MTIME", FuseProtocol.FattrMtime, "FATTR_MTIME")
            .Equal("FATTR_FH", FuseProtocol.FattrFh, "FATTR_FH")
            .Equal("FATTR_ATIME_NOW", FuseProtocol.FattrAtimeNow, "FATTR_ATIME_NOW")
            .Equal("FATTR_MTIME_NOW", FuseProtocol.FattrMtimeNow, "FATTR_MTIME_NOW")
            .Equal("FUSE_GETATTR_FH", FuseProtocol.GetattrFh, "FUSE_GETATTR_FH")
            .Equal("FUSE_FSYNC_FDATASYNC", FuseProtocol.FsyncFdatasync, "FUSE_FSYNC_FDATASYNC")
            .Equal("FUSE_SETUPMAPPING_FLAG_WRITE", FuseProtocol.SetupMappingWrite, "FUSE_SETUPMAPPING_FLAG_WRITE")
            .Equal("FUSE_SETUPMAPPING_FLAG_READ", FuseProtocol.SetupMappingRead, "FUSE_SETUPMAPPING_FLAG_READ");
        foreach (FieldInfo field in typeof(Errno).GetFields(BindingFlags.Static | BindingFlags.Public))
        {
            check.Equal(field.Name, Convert.ToUInt64(field.GetRawConstantValue(), CultureInfo.InvariantCulture), field.Name);
        }

        AssertNoMismatches(check, compiler);
    }

    private static string RequireCompiler()
    {
        string? compiler = CHeaderCheck.FindCompiler();
        if (compiler is null)
        {
            Assert.Skip("gcc is not installed, so the C headers cannot be compared (apt-get install gcc).");
        }

        return compiler;
    }

    private static void AssertNoMismatches(CHeaderCheck check, string compiler)
    {
        IReadOnlyList<string> failures = check.Run(compiler);
        Assert.True(failures.Count == 0, string.Join('\n', failures));
    }
}

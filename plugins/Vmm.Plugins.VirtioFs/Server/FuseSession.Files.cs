using Vmm.Contracts.Virtio;

namespace Vmm.Plugins.VirtioFs.Server;

/// <summary>Decodes the requests on open files and directories.</summary>
internal sealed partial class FuseSession
{
    private FuseResult Open(in FuseInHeader header, in FuseContext context, ref FuseArgs args)
        => args.TryRead(out FuseOpenIn open) ? ReplyOpen(_fs.Open(context, header.NodeId, open.Flags, open.OpenFlags)) : Fail(Errno.EINVAL);

    private FuseResult Create(in FuseInHeader header, in FuseContext context, ref FuseArgs args)
    {
        if (!args.TryRead(out FuseCreateIn create) || !args.TryReadString(out ReadOnlySpan<byte> name))
        {
            return Fail(Errno.EINVAL);
        }

        FuseResult<FuseCreated> created = _fs.Create(context with { Umask = create.Umask }, header.NodeId, name, create.Flags, create.Mode, create.OpenFlags);
        if (created.IsError)
        {
            return Fail(created.Errno);
        }

        int entrySize = WriteEntryOut(Payload, created.Value.Entry);
        FuseOpened opened = created.Value.Opened;
        return FuseResult.Payload(entrySize + Write(Payload[entrySize..], new FuseOpenOut { FileHandle = opened.FileHandle, OpenFlags = opened.OpenFlags }));
    }

    /// <summary>READ's data goes straight into the chain after the out-header; only the header is written after.</summary>
    private FuseResult Read(in FuseContext context, ref FuseArgs args, DescriptorChain chain)
    {
        if (!args.TryRead(out FuseReadIn read))
        {
            return Fail(Errno.EINVAL);
        }

        long room = chain.WritableLength - FuseProtocol.OutHeaderSize;
        int wanted = (int)Math.Min(Math.Min(read.Size, (uint)FuseProtocol.MaxWrite), Math.Max(room, 0));
        FuseResult<int> done = _fs.Read(context, read.FileHandle, read.Offset, new FuseData(chain, FuseProtocol.OutHeaderSize, wanted));
        if (done.IsError)
        {
            return Fail(done.Errno);
        }

        _payloadInChain = true;
        return FuseResult.Payload(done.Value);
    }

    /// <summary>WRITE's data stays in the chain after fuse_write_in; its size must be exactly what follows.</summary>
    private FuseResult Write(in FuseContext context, ref FuseArgs args, int argsLength, DescriptorChain chain)
    {
        if (!args.TryRead(out FuseWriteIn write))
        {
            return Fail(Errno.EINVAL);
        }

        if ((long)write.Size != argsLength - FuseProtocol.WriteInSize || write.Size > FuseProtocol.MaxWrite)
        {
            return Fail(Errno.EINVAL);
        }

        var data = new FuseData(chain, FuseProtocol.InHeaderSize + FuseProtocol.WriteInSize, (int)write.Size);
        FuseResult<int> written = _fs.Write(context, write.FileHandle, write.Offset, write.WriteFlags, data);
        return written.IsError ? Fail(written.Errno) : Reply(new FuseWriteOut { Size = (uint)written.Value });
    }

    private FuseResult Release(ref FuseArgs args)
        => args.TryRead(out FuseReleaseIn release) ? ReplyStatus(_fs.Release(release.FileHandle)) : Fail(Errno.EINVAL);

    private FuseResult Flush(ref FuseArgs args)
        => args.TryRead(out FuseFlushIn flush) ? ReplyStatus(_fs.Flush(flush.FileHandle)) : Fail(Errno.EINVAL);

    private FuseResult FSync(ref FuseArgs args)
        => args.TryRead(out FuseFsyncIn fsync)
            ? ReplyStatus(_fs.FSync(fsync.FileHandle, (fsync.FsyncFlags & FuseProtocol.FsyncFdatasync) != 0))
            : Fail(Errno.EINVAL);

    private FuseResult Fallocate(ref FuseArgs args)
        => args.TryRead(out FuseFallocateIn fallocate)
            ? ReplyStatus(_fs.Fallocate(fallocate.FileHandle, fallocate.Offset, fallocate.Length, fallocate.Mode))
            : Fail(Errno.EINVAL);

    private FuseResult LSeek(ref FuseArgs args)
    {
        if (!args.TryRead(out FuseLSeekIn seek))
        {
            return Fail(Errno.EINVAL);
        }

        FuseResult<ulong> offset = _fs.LSeek(seek.FileHandle, seek.Offset, seek.Whence);
        return offset.IsError ? Fail(offset.Errno) : Reply(new FuseLSeekOut { Offset = offset.Value });
    }

    private FuseResult CopyFileRange(ref FuseArgs args)
    {
        if (!args.TryRead(out FuseCopyFileRangeIn copy))
        {
            return Fail(Errno.EINVAL);
        }

        FuseResult<uint> copied = _fs.CopyFileRange(copy);
        return copied.IsError ? Fail(copied.Errno) : Reply(new FuseWriteOut { Size = copied.Value });
    }

    /// <summary>READDIR / READDIRPLUS from the cookie in read_in.offset, into as much of the reply as the guest gave room for.</summary>
    private FuseResult ReadDir(in FuseContext context, ref FuseArgs args, DescriptorChain chain, bool plus)
    {
        if (!args.TryRead(out FuseReadIn read))
        {
            return Fail(Errno.EINVAL);
        }

        int capacity = (int)Math.Min(Math.Min(read.Size, (uint)ReplyPayloadCapacity), Math.Max(chain.WritableLength - FuseProtocol.OutHeaderSize, 0));
        var entries = new FuseDirectoryWriter(Payload[..capacity], plus);
        FuseError status = _fs.ReadDir(context, read.FileHandle, read.Offset, ref entries);
        return status.IsError ? Fail(status.Errno) : FuseResult.Payload(entries.Length);
    }
}

namespace Vmm.Plugins.VirtioFs.Server;

/// <summary>Decodes the requests on nodes and names: lookups, attributes, creates, removes, renames and links.</summary>
internal sealed partial class FuseSession
{
    private FuseResult Lookup(in FuseInHeader header, in FuseContext context, ref FuseArgs args)
        => args.TryReadString(out ReadOnlySpan<byte> name) ? ReplyEntry(_fs.Lookup(context, header.NodeId, name)) : Fail(Errno.EINVAL);

    private FuseResult Forget(in FuseInHeader header, ref FuseArgs args)
    {
        if (args.TryRead(out FuseForgetIn forget))
        {
            _fs.Forget(header.NodeId, forget.LookupCount);
        }

        return FuseResult.NoReply;
    }

    private FuseResult BatchForget(ref FuseArgs args)
    {
        if (!args.TryRead(out FuseBatchForgetIn batch))
        {
            return FuseResult.NoReply;
        }

        for (uint i = 0; i < batch.Count && args.TryRead(out FuseForgetOne one); i++)
        {
            _fs.Forget(one.NodeId, one.LookupCount);
        }

        return FuseResult.NoReply;
    }

    private FuseResult SetAttr(in FuseInHeader header, in FuseContext context, ref FuseArgs args)
        => args.TryRead(out FuseSetAttrIn changes) ? ReplyAttributes(_fs.SetAttr(context, header.NodeId, changes)) : Fail(Errno.EINVAL);

    private FuseResult StatFs(in FuseInHeader header, in FuseContext context)
    {
        FuseResult<FuseKStatFs> status = _fs.StatFs(context, header.NodeId);
        return status.IsError ? Fail(status.Errno) : Reply(new FuseStatFsOut { Status = status.Value });
    }

    private FuseResult Symlink(in FuseInHeader header, in FuseContext context, ref FuseArgs args)
    {
        if (!args.TryReadString(out ReadOnlySpan<byte> name) || !args.TryReadString(out ReadOnlySpan<byte> target))
        {
            return Fail(Errno.EINVAL);
        }

        return ReplyEntry(_fs.Symlink(context, header.NodeId, name, target));
    }

    private FuseResult MkNod(in FuseInHeader header, in FuseContext context, ref FuseArgs args)
    {
        if (!args.TryRead(out FuseMknodIn mknod) || !args.TryReadString(out ReadOnlySpan<byte> name))
        {
            return Fail(Errno.EINVAL);
        }

        return ReplyEntry(_fs.MkNod(context with { Umask = mknod.Umask }, header.NodeId, name, mknod.Mode, mknod.Device));
    }

    private FuseResult MkDir(in FuseInHeader header, in FuseContext context, ref FuseArgs args)
    {
        if (!args.TryRead(out FuseMkdirIn mkdir) || !args.TryReadString(out ReadOnlySpan<byte> name))
        {
            return Fail(Errno.EINVAL);
        }

        return ReplyEntry(_fs.MkDir(context with { Umask = mkdir.Umask }, header.NodeId, name, mkdir.Mode));
    }

    private FuseResult Unlink(in FuseInHeader header, in FuseContext context, ref FuseArgs args, bool directory)
        => args.TryReadString(out ReadOnlySpan<byte> name) ? ReplyStatus(_fs.Unlink(context, header.NodeId, name, directory)) : Fail(Errno.EINVAL);

    private FuseResult Rename(in FuseInHeader header, in FuseContext context, ref FuseArgs args, bool hasFlags)
    {
        // RENAME carries fuse_rename_in, RENAME2 fuse_rename2_in (with flags); the names follow either.
        ulong newParent;
        uint flags = 0;
        bool fixedPart;
        if (hasFlags)
        {
            fixedPart = args.TryRead(out FuseRename2In rename2);
            (newParent, flags) = (rename2.NewDirectory, rename2.Flags);
        }
        else
        {
            fixedPart = args.TryRead(out FuseRenameIn rename);
            newParent = rename.NewDirectory;
        }

        if (!fixedPart || !args.TryReadString(out ReadOnlySpan<byte> oldName) || !args.TryReadString(out ReadOnlySpan<byte> newName))
        {
            return Fail(Errno.EINVAL);
        }

        return ReplyStatus(_fs.Rename(context, header.NodeId, oldName, newParent, newName, flags));
    }

    private FuseResult Link(in FuseInHeader header, in FuseContext context, ref FuseArgs args)
    {
        if (!args.TryRead(out FuseLinkIn link) || !args.TryReadString(out ReadOnlySpan<byte> name))
        {
            return Fail(Errno.EINVAL);
        }

        return ReplyEntry(_fs.Link(context, link.OldNodeId, header.NodeId, name));
    }
}

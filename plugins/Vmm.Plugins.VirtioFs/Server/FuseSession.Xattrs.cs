namespace Vmm.Plugins.VirtioFs.Server;

/// <summary>Decodes the extended-attribute requests.</summary>
internal sealed partial class FuseSession
{
    private FuseResult SetXattr(in FuseInHeader header, in FuseContext context, ref FuseArgs args)
    {
        if (!args.TryRead(out FuseSetXattrIn setxattr) || !args.TryReadString(out ReadOnlySpan<byte> name))
        {
            return Fail(Errno.EINVAL);
        }

        uint size = setxattr.Size;
        if (size > FuseProtocol.MaxXattrSize || size != (uint)args.Remaining || !args.TryReadBytes((int)size, out ReadOnlySpan<byte> value))
        {
            return Fail(Errno.EINVAL);
        }

        return ReplyStatus(_fs.SetXattr(context, header.NodeId, name, value, setxattr.Flags));
    }

    private FuseResult RemoveXattr(in FuseInHeader header, in FuseContext context, ref FuseArgs args)
        => args.TryReadString(out ReadOnlySpan<byte> name) ? ReplyStatus(_fs.RemoveXattr(context, header.NodeId, name)) : Fail(Errno.EINVAL);

    private FuseResult GetXattr(in FuseInHeader header, in FuseContext context, ref FuseArgs args)
    {
        if (!args.TryRead(out FuseGetXattrIn getxattr) || !args.TryReadString(out ReadOnlySpan<byte> name))
        {
            return Fail(Errno.EINVAL);
        }

        return ReplySized(getxattr.Size, _fs.GetXattr(context, header.NodeId, name, SizedPayload(getxattr.Size)));
    }

    private FuseResult ListXattr(in FuseInHeader header, in FuseContext context, ref FuseArgs args)
    {
        if (!args.TryRead(out FuseGetXattrIn listxattr))
        {
            return Fail(Errno.EINVAL);
        }

        return ReplySized(listxattr.Size, _fs.ListXattr(context, header.NodeId, SizedPayload(listxattr.Size)));
    }

    /// <summary>Where a GETXATTR/LISTXATTR value goes: nothing for size 0 (the guest asks for the length), else up to size bytes.</summary>
    private Span<byte> SizedPayload(uint size) => size == 0 ? default : Payload[..(int)Math.Min(size, (uint)FuseProtocol.MaxXattrSize)];

    /// <summary>The GETXATTR/LISTXATTR convention: size 0 asks for the length (getxattr_out), else the bytes.</summary>
    private FuseResult ReplySized(uint requested, in FuseResult<int> length)
    {
        if (length.IsError)
        {
            return Fail(length.Errno);
        }

        return requested != 0 ? FuseResult.Payload(length.Value) : Reply(new FuseGetXattrOut { Size = (uint)length.Value });
    }
}

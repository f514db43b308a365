namespace Vmm.Plugins.VirtioFs.Server;

/// <summary>Encodes what the file system answers as reply structs.</summary>
internal sealed partial class FuseSession
{
    /// <summary>Writes fuse_entry_out for <paramref name="entry"/>; returns its size.</summary>
    internal static int WriteEntryOut(Span<byte> destination, in FuseEntry entry) => Write(destination, new FuseEntryOut
    {
        NodeId = entry.NodeId,
        EntryValid = entry.TimeoutSeconds,
        AttrValid = entry.TimeoutSeconds,
        Attr = entry.Attr,
    });

    private static FuseResult ReplyStatus(FuseError status) => status.IsError ? Fail(status.Errno) : FuseResult.Empty;

    private FuseResult ReplyEntry(in FuseResult<FuseEntry> entry)
        => entry.IsError ? Fail(entry.Errno) : FuseResult.Payload(WriteEntryOut(Payload, entry.Value));

    private FuseResult ReplyAttributes(in FuseResult<FuseAttributes> attributes)
        => attributes.IsError
            ? Fail(attributes.Errno)
            : Reply(new FuseAttrOut { AttrValid = attributes.Value.TimeoutSeconds, Attr = attributes.Value.Attr });

    private FuseResult ReplyOpen(in FuseResult<FuseOpened> opened)
        => opened.IsError
            ? Fail(opened.Errno)
            : Reply(new FuseOpenOut { FileHandle = opened.Value.FileHandle, OpenFlags = opened.Value.OpenFlags });

    /// <summary>A payload the file system wrote into the reply buffer itself (READLINK, xattr values).</summary>
    private static FuseResult ReplyLength(in FuseResult<int> length) => length.IsError ? Fail(length.Errno) : FuseResult.Payload(length.Value);
}

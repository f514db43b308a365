namespace Vmm.Plugins.VirtioFs.Server;

/// <summary>Decodes the DAX window requests; the session holds the window, the file system maps into it.</summary>
internal sealed partial class FuseSession
{
    private FuseResult SetupMapping(in FuseInHeader header, in FuseContext context, ref FuseArgs args)
    {
        if (!args.TryRead(out FuseSetupMappingIn mapping))
        {
            return Fail(Errno.EINVAL);
        }

        return _window is null ? Fail(Errno.ENOSYS) : ReplyStatus(_fs.SetupMapping(context, header.NodeId, mapping, _window));
    }

    /// <summary>REMOVEMAPPING: removemapping_in{count} (4 bytes) then count × {moffset, len}, unaligned; stops at the first bad range.</summary>
    private FuseResult RemoveMapping(ref FuseArgs args)
    {
        if (!args.TryRead(out FuseRemoveMappingIn removal) || (ulong)removal.Count * FuseProtocol.RemoveMappingOneSize > (ulong)args.Remaining)
        {
            return Fail(Errno.EINVAL);
        }

        if (_window is null)
        {
            return Fail(Errno.ENOSYS);
        }

        for (uint i = 0; i < removal.Count; i++)
        {
            args.TryRead(out FuseRemoveMappingOne one);
            FuseError status = _fs.RemoveMapping(one.WindowOffset, one.Length, _window);
            if (status.IsError)
            {
                return Fail(status.Errno);
            }
        }

        return FuseResult.Empty;
    }

    /// <summary>Puts the inaccessible reservation back over the whole window (new session, DESTROY, reset).</summary>
    private void ClearWindow() => _window?.Unmap(0, _window.Size);
}

namespace Vmm.Plugins.VirtioFs.PassthroughFs;

/// <summary>What a single path component from the guest may be: non-empty, at most NAME_MAX bytes, no '/', not "." or "..".</summary>
internal static class NameRules
{
    /// <summary>Returns 0 for a valid name, else the errno to reply with.</summary>
    public static int Validate(ReadOnlySpan<byte> name)
    {
        if (name.IsEmpty || IsDot(name) || IsDotDot(name) || name.Contains((byte)'/'))
        {
            return global::Interop.Errno.EINVAL;
        }

        return name.Length > Fuse.FuseProtocol.MaxNameLength ? global::Interop.Errno.ENAMETOOLONG : 0;
    }

    public static bool IsDot(ReadOnlySpan<byte> name) => name.Length == 1 && name[0] == '.';

    public static bool IsDotDot(ReadOnlySpan<byte> name) => name.Length == 2 && name[0] == '.' && name[1] == '.';
}

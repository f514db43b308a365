namespace Vmm.Plugins.VirtioFs.Fuse;

/// <summary>
/// The plugin's one table of Linux errno values: what host calls fail with and what FUSE replies carry (negated only
/// in fuse_out_header.error). Checked against errno.h by HeaderLayoutTests.
/// </summary>
internal static class Errno
{
    public const int EPERM = 1;
    public const int ENOENT = 2;
    public const int EIO = 5;
    public const int EBADF = 9;
    public const int EACCES = 13;
    public const int EEXIST = 17;
    public const int EXDEV = 18;
    public const int ENOTDIR = 20;
    public const int EISDIR = 21;
    public const int EINVAL = 22;
    public const int ENFILE = 23;
    public const int EMFILE = 24;
    public const int ENOTTY = 25;
    public const int EFBIG = 27;
    public const int EROFS = 30;
    public const int ERANGE = 34;
    public const int ENAMETOOLONG = 36;
    public const int ENOSYS = 38;
    public const int ENODATA = 61;
    public const int EPROTO = 71;
    public const int EOVERFLOW = 75;
    public const int EOPNOTSUPP = 95;
}

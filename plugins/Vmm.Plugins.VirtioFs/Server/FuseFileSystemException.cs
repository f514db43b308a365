namespace Vmm.Plugins.VirtioFs.Server;

/// <summary>
/// An operation of a file system failed with <see cref="Errno"/>: the server answers it as an errno reply. A file
/// system may throw one (from deep inside a host call) instead of returning a <see cref="FuseError"/>.
/// </summary>
internal class FuseFileSystemException : IOException
{
    public FuseFileSystemException(string message, int errno)
        : base(message)
    {
        Errno = errno;
    }

    /// <summary>The errno (positive) the reply carries.</summary>
    public int Errno { get; }
}

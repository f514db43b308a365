namespace Vmm.Plugins.VirtioFs.Server;

/// <summary>
/// What a file-system operation answers: a typed value, or an errno (positive; the server negates it on the wire).
/// A value converts to it implicitly, and so does a <see cref="FuseError"/>, so an operation returns either.
/// </summary>
internal readonly struct FuseResult<T>
{
    private readonly T _value;

    private FuseResult(T value, int errno)
    {
        _value = value;
        Errno = errno;
    }

    /// <summary>The errno (positive); 0 for success.</summary>
    public int Errno { get; }

    /// <summary>Whether the operation failed.</summary>
    public bool IsError => Errno != 0;

    /// <summary>The value; only meaningful when <see cref="IsError"/> is false.</summary>
    public T Value => _value;

    public static implicit operator FuseResult<T>(T value) => new(value, 0);

    /// <summary>An errno answer; EIO for a nonsensical 0 or less.</summary>
    public static implicit operator FuseResult<T>(FuseError error) => new(default!, error.Errno > 0 ? error.Errno : global::Interop.Errno.EIO);
}

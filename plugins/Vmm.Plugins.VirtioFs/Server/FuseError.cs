namespace Vmm.Plugins.VirtioFs.Server;

/// <summary>
/// The errno a file-system operation answers (positive, as libc names it), or <see cref="None"/> for success; it
/// converts to any <see cref="FuseResult{T}"/>, so a typed operation returns it for its failures.
/// </summary>
internal readonly record struct FuseError(int Errno)
{
    /// <summary>Success (an operation with nothing to return).</summary>
    public static FuseError None => default;

    /// <summary>Whether this is a failure.</summary>
    public bool IsError => Errno != 0;
}

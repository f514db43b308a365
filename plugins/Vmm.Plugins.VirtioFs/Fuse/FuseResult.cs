namespace Vmm.Plugins.VirtioFs.Fuse;

/// <summary>
/// What a request handler answers, the one error convention of the server: a payload of <see cref="Length"/> bytes
/// (already in the reply buffer or the chain), an errno (positive, as libc names it; negated only on the wire), or
/// no reply at all (FORGET, BATCH_FORGET, INTERRUPT).
/// </summary>
internal readonly record struct FuseResult
{
    private FuseResult(int length, int errno, bool noReply)
    {
        Length = length;
        Errno = errno;
        IsNoReply = noReply;
    }

    /// <summary>Success with no payload.</summary>
    public static FuseResult Empty => default;

    /// <summary>The request gets no reply.</summary>
    public static FuseResult NoReply { get; } = new(0, 0, noReply: true);

    /// <summary>The payload's length; 0 for an error.</summary>
    public int Length { get; }

    /// <summary>The errno (positive); 0 for success.</summary>
    public int Errno { get; }

    /// <summary>Whether no reply is sent.</summary>
    public bool IsNoReply { get; }

    /// <summary>Whether the reply is an error.</summary>
    public bool IsError => Errno != 0;

    /// <summary>Success with a payload of <paramref name="length"/> bytes.</summary>
    public static FuseResult Payload(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        return new(length, 0, noReply: false);
    }

    /// <summary>An errno reply; <paramref name="errno"/> is positive (EIO is used for a nonsensical 0 or less).</summary>
    public static FuseResult Error(int errno) => new(0, errno > 0 ? errno : global::Interop.Errno.EIO, noReply: false);
}

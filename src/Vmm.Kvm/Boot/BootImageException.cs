namespace Vmm.Kvm.Boot;

/// <summary>A kernel, payload or initrd that cannot be booted: truncated, malformed, too old, or does not fit.</summary>
public sealed class BootImageException : Exception
{
    /// <summary>Creates the exception with a message that says what is wrong and with which file.</summary>
    public BootImageException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception wrapping <paramref name="inner"/>.</summary>
    public BootImageException(string message, Exception inner)
        : base(message, inner)
    {
    }

    /// <summary>Creates the exception with no message.</summary>
    public BootImageException()
    {
    }
}

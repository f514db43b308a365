namespace Vmm.Testing.Driver;

/// <summary>The in-process driver could not bring a device up (the same points where Linux's probe fails).</summary>
public sealed class VirtioDriverException : Exception
{
    /// <summary>Creates the exception.</summary>
    public VirtioDriverException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with its cause.</summary>
    public VirtioDriverException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception.</summary>
    public VirtioDriverException()
    {
    }
}

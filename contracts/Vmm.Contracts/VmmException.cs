namespace Vmm.Contracts;

/// <summary>The base of every exception the framework raises on purpose; catch it to catch them all.</summary>
public class VmmException : Exception
{
    /// <summary>Creates the exception with a message.</summary>
    public VmmException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the exception that caused it.</summary>
    public VmmException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}

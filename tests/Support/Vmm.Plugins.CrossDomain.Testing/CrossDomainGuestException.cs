namespace Vmm.Plugins.CrossDomain.Testing;

/// <summary>The device answered a guest command with something a well-behaved guest cannot go on from.</summary>
public sealed class CrossDomainGuestException : Exception
{
    /// <summary>Creates the exception.</summary>
    public CrossDomainGuestException()
    {
    }

    /// <summary>Creates the exception with its reason.</summary>
    public CrossDomainGuestException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with its reason and cause.</summary>
    public CrossDomainGuestException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

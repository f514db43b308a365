namespace Vmm.Fuzz.Harness;

/// <summary>An oracle saw something that is a defect even though nothing threw (a hang, an escape, a failed device).</summary>
public sealed class FuzzFindingException : Exception
{
    /// <summary>Creates the exception.</summary>
    public FuzzFindingException()
    {
    }

    /// <summary>Creates the exception with what the oracle saw.</summary>
    public FuzzFindingException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with what the oracle saw and the exception behind it.</summary>
    public FuzzFindingException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

using Vmm.Contracts;

namespace Vmm.Core.Control;

/// <summary>Thrown by a command to fail with a specific error code; becomes an error reply.</summary>
public sealed class ControlCommandException : VmmException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="code">One of <see cref="ControlErrorCodes"/> or a command-specific code (lower-case, dashes).</param>
    /// <param name="message">What went wrong, for a person.</param>
    public ControlCommandException(string code, string message)
        : base(message)
    {
        ArgumentException.ThrowIfNullOrEmpty(code);
        Code = code;
    }

    /// <summary>The error code.</summary>
    public string Code { get; }
}

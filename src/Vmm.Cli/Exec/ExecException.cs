namespace Vmm.Cli.Exec;

/// <summary><c>vmm exec</c> could not run the command or lost it: no agent, a broken frame, a connection gone.</summary>
internal sealed class ExecException : Exception
{
    public ExecException(string message)
        : base(message)
    {
    }

    public ExecException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public ExecException()
    {
    }
}

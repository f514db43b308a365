namespace Vmm.Qemu.Qmp;

/// <summary>A QMP connection or command failed.</summary>
internal sealed class QmpException : Exception
{
    public QmpException()
    {
    }

    public QmpException(string message)
        : base(message)
    {
    }

    public QmpException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

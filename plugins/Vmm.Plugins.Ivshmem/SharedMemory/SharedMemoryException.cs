using Vmm.Contracts;

namespace Vmm.Plugins.Ivshmem.SharedMemory;

/// <summary>A shared-memory file could not be created, opened, sized or mapped; the message says which and why.</summary>
public sealed class SharedMemoryException : VmmException
{
    /// <summary>Creates the exception with a message.</summary>
    public SharedMemoryException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and its cause.</summary>
    public SharedMemoryException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
